import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { nodeVersionProblem, REQUIRED_NODE_MAJOR } from '../../src/node-version-check';
import { buildServerOnce, removeBuild } from '../support/child-server';

/**
 * A Node.js older than 24 is told so in one line: by `npm ci` (engine-strict in .npmrc) and by `node main.js`
 * (src/node-version-check.ts runs before anything else loads). Needs an old node binary: OLD_NODE, the system's
 * node when it is older, or ~/.cache/node20 (where .ci/run installs node@20); without one the block is skipped
 * with one line.
 */
const REPO = resolve(__dirname, '..', '..');

function major(node: string): number {
  try {
    return Number(execFileSync(node, ['-p', 'process.versions.node']).toString().split('.')[0]);
  } catch {
    return 0;
  }
}

function findOldNode(): string | undefined {
  const candidates = [
    process.env.OLD_NODE,
    join(homedir(), '.cache/node20/node_modules/.bin/node'),
    '/usr/bin/node',
    '/usr/local/bin/node',
  ];
  return candidates.find(
    (c): c is string => !!c && existsSync(c) && major(c) > 0 && major(c) < REQUIRED_NODE_MAJOR,
  );
}

describe('nodeVersionProblem', () => {
  it('names the needed version for an older Node.js, and says nothing for 24 and newer', () => {
    expect(nodeVersionProblem('20.19.0')).toBe(
      'Hubbub needs Node.js 24 or newer; this is Node.js 20.19.0. Install Node.js 24 LTS (see .nvmrc) and try again.',
    );
    expect(nodeVersionProblem('23.11.1')).toMatch(/^Hubbub needs Node.js 24 or newer/);
    expect(nodeVersionProblem('24.0.0')).toBeUndefined();
    expect(nodeVersionProblem('26.1.0')).toBeUndefined();
  });
});

const oldNode = findOldNode();
if (process.env.OLD_NODE && !oldNode) {
  throw new Error(`OLD_NODE=${process.env.OLD_NODE} is not a node binary older than 24`);
}
if (!oldNode)
  process.stderr.write('skipping the old-Node.js checks: no node older than 24 found (OLD_NODE)\n');

(oldNode ? describe : describe.skip)(`with an old Node.js (${oldNode})`, () => {
  afterAll(() => removeBuild());

  it('node main.js prints one line naming the needed version, and exits 1 without a stack', async () => {
    const main = await buildServerOnce();
    const run = spawnSync(oldNode!, [main], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Hubbub needs Node\.js 24 or newer; this is Node\.js 2\d\./),
    ]);
  }, 120_000);

  it('npm ci refuses at once (engine-strict), naming the needed version, and installs nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-old-node-'));
    try {
      for (const file of ['package.json', 'package-lock.json', '.npmrc'])
        copyFileSync(join(REPO, file), join(dir, file));
      // npm's script starts with `#!/usr/bin/env node`: the old node comes first on PATH.
      const run = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PATH: `${dirname(oldNode!)}:${process.env.PATH}`, NODE_OPTIONS: '' },
      });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('EBADENGINE');
      expect(run.stderr).toContain('Required: {"node":">=24"}');
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('npm start prints the same one line (scripts/start.mjs checks before importing what Node 24 added)', () => {
    const run = spawnSync('npm', ['start'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: `${dirname(oldNode!)}:${process.env.PATH}`, NODE_OPTIONS: '' },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).not.toContain('SyntaxError');
    expect(run.stderr.split('\n').filter((line) => /\S/.test(line) && !/^npm /.test(line))).toEqual(
      [expect.stringMatching(/^Hubbub needs Node\.js 24 or newer; this is Node\.js 2\d\./)],
    );
  }, 90_000);
});
