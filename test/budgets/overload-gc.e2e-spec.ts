/**
 * How the overload detector forces a GC (src/ws/overload.ts): through `global.gc` when the process runs with
 * --expose-gc, so that Node prints no ExperimentalWarning; without the flag through `vm.measureMemory`, for which
 * Node prints its warning once per process (docs/configuration.md, OVERLOAD_HEAP_RATIO). Each case runs the compiled
 * detector in its own process, overloaded from the start (a ratio of almost nothing), and asks it to sample twice.
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { buildServerOnce, removeBuild } from '../support/child-server';

const REPO = resolve(__dirname, '..', '..');

const SCRIPT = `
const { Overload } = require(process.argv[1]);
const overload = new Overload({ overloadHeapRatio: 1e-9 });
const gcs = [];
const { PerformanceObserver, constants } = require('node:perf_hooks');
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.push(e);
}).observe({ entryTypes: ['gc'] });
overload.sample();
setTimeout(() => {
  overload.lastMajorGc = 0; // as if 5 s had passed: the second sample forces a GC again
  overload.sample();
  setTimeout(() => console.log(JSON.stringify({ active: overload.active, majorGcs: gcs.length })), 200);
}, 200);
`;

function run(nodeOptions: string): Promise<{ stdout: string; stderr: string }> {
  return buildServerOnce().then(
    (main) =>
      new Promise((done, fail) => {
        const overload = join(dirname(main), 'ws', 'overload.js');
        execFile(
          process.execPath,
          [...nodeOptions.split(' ').filter(Boolean), '-e', SCRIPT, overload],
          { cwd: REPO, env: { PATH: process.env.PATH }, timeout: 30_000 },
          (err, stdout, stderr) =>
            err ? fail(new Error(`${err.message}\n${stderr}`)) : done({ stdout, stderr }),
        );
      }),
  );
}

describe('the GC the overload detector forces', () => {
  afterAll(removeBuild);

  it('with --expose-gc: runs through global.gc, and Node prints no ExperimentalWarning', async () => {
    const { stdout, stderr } = await run('--expose-gc');
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result.active).toBe(true);
    expect(result.majorGcs).toBeGreaterThanOrEqual(2);
    expect(stderr).not.toMatch(/ExperimentalWarning/);
  }, 120_000);

  it('without it: runs through vm.measureMemory, with one ExperimentalWarning for the whole process', async () => {
    const { stdout, stderr } = await run('');
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result.active).toBe(true);
    expect(result.majorGcs).toBeGreaterThanOrEqual(2);
    expect(stderr.match(/ExperimentalWarning/g)).toHaveLength(1);
  }, 120_000);
});
