/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Servers, child processes and sockets are closed in afterAll hooks; should a library keep a handle open
  // anyway, CI must still end with the test result instead of hanging until its time limit.
  forceExit: true,
  testTimeout: 30000,
};
