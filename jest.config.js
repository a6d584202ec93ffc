/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // No forceExit: servers, child processes, browsers and sockets are closed in afterAll hooks, so jest ends by
  // itself (forceExit printed "Force exiting Jest" on every run, open handle or not). A test that leaves a handle
  // open shows as "Jest did not exit one second after the test run"; `--detectOpenHandles` names it.
  testTimeout: 30000,
};
