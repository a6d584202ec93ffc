import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * A test service that cannot be reached is told in one line (contract section 9), not in the block with a stack
 * location that jest prints for console.warn: a child jest runs test/support/services-gate.fixture.ts with
 * TEST_REDIS_URL on a closed port.
 */
const run = promisify(execFile);
const REPO = resolve(__dirname, '..', '..');

it('prints one line for an unreachable service and skips the block', async () => {
  const jest = require.resolve('jest/bin/jest', { paths: [REPO] });
  const { stderr } = await run(
    process.execPath,
    [
      jest,
      '--ci',
      '--testRegex',
      'services-gate\\.fixture\\.ts$',
      join(REPO, 'test/support/services-gate.fixture.ts'),
    ],
    {
      cwd: REPO,
      env: {
        ...process.env,
        TEST_REDIS_URL: 'redis://127.0.0.1:9',
        REQUIRE_SERVICES: '',
        NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning',
      },
      timeout: 60_000,
    },
  );
  const lines = stderr.split('\n');
  expect(lines.filter((l) => l.includes('127.0.0.1:9'))).toEqual([
    'skipping redis tests: redis://127.0.0.1:9 unreachable',
  ]);
  expect(lines.filter((l) => /^\s+at /.test(l) || l.includes('console.warn'))).toEqual([]);
  expect(stderr).toContain('1 skipped');
}, 90_000);
