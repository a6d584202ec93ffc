import { createServer, type Server } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import {
  freePort,
  removeBuild,
  runUntilExit,
  spawnServer,
  type ChildServer,
} from '../support/child-server';
import { rid } from '../support/fixtures';
import {
  startEphemeralRedis,
  redisBinaryGate,
  stopProcess,
  until,
} from '../support/redis-processes';
import { servicesGate, TEST_DATABASE_URL } from '../support/services';
import { signToken } from '../support/tokens';
import { handshakeStatus } from '../support/ws-client';

/**
 * The first minutes of a new user (contract section 2, first-run): a store that cannot be reached, a port in use,
 * Redis down at start and a typo in `.env` are each told in one line naming the key, never with a stack.
 */
const STARTING = /Starting Nest application/;
const STACK = /^\s+at |\n\s+at /;

/** Every output line but Nest's start-up line. */
function told(run: { stdout: string[]; stderr: string[] }): string[] {
  return [...run.stdout, ...run.stderr].filter((line) => !STARTING.test(line));
}

/** Lines at warn level or above: pino's JSON `level` 40+, or plain lines on stderr. */
function warnings(child: { stdout: string[]; stderr: string[] }): string[] {
  const json = child.stdout.filter((line) => {
    try {
      return (JSON.parse(line) as { level: number }).level >= 40;
    } catch {
      return true;
    }
  });
  return [...json, ...child.stderr];
}

afterAll(() => removeBuild());

describe('a store or a port that cannot be used at start', () => {
  it('DATABASE_URL on a closed port: exits 1 with one line naming DATABASE_URL', async () => {
    const port = await freePort();
    const run = await runUntilExit({
      DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/test`,
    });
    expect(run.code).toBe(1);
    const lines = told(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('DATABASE_URL');
    expect(lines[0]).toContain('ECONNREFUSED');
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).not.toMatch(STACK);
  }, 60_000);

  it('a port in use: exits 1 with one line naming PORT, before Nest says it started', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const run = await runUntilExit({ PORT: String(port) });
      expect(run.code).toBe(1);
      expect(told(run)).toEqual([
        expect.stringMatching(new RegExp(`PORT ${port} is already in use`)),
      ]);
      expect([...run.stdout, ...run.stderr].join('\n')).not.toContain('successfully started');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});

const pg = servicesGate('postgres');

pg.describe('with PostgreSQL', () => {
  it('DATABASE_URL naming a missing database: exits 1 with one line naming DATABASE_URL', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/missing_${rid()}`;
    const run = await runUntilExit({ DATABASE_URL: url.toString() });
    expect(run.code).toBe(1);
    const lines = told(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('DATABASE_URL');
    expect(lines[0]).toContain('does not exist');
    expect(lines[0]).not.toMatch(STACK);
  }, 60_000);

  redisBinaryGate(pg, 'the Redis-down-at-start test').describe('Redis down at start', () => {
    let child: ChildServer | undefined;
    let redis: ChildProcess | undefined;
    afterEach(async () => {
      child?.kill('SIGKILL');
      await stopProcess(redis);
    });

    it('answers handshakes and readiness with 503 until Redis answers, in one warning line, no stack', async () => {
      const redisPort = await freePort();
      child = await spawnServer({
        DATABASE_URL: TEST_DATABASE_URL,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        DEV_TOKENS: 'false', // its start-up warning is not what this test counts
      });
      const token = signToken(`u-${rid()}`);
      const ready = await fetch(`${child.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await handshakeStatus(child.wsUrl, { authorization: `Bearer ${token}` })).toBe(503);
      expect(await handshakeStatus(child.wsUrl, { authorization: `Bearer ${token}` })).toBe(503);
      // What the client SDK asks after a refused handshake: the same 503, with the reason.
      const check = await fetch(`${child.url}/ws?access_token=${token}`);
      expect([check.status, await check.json()]).toEqual([
        503,
        { statusCode: 503, message: 'Redis is not reachable yet' },
      ]);

      // Redis comes up: readiness and handshakes follow.
      redis = await startEphemeralRedis(redisPort);
      await until(
        async () => (await fetch(`${child!.url}/health/ready`)).status === 200,
        'readiness 200 once Redis answers',
      );
      expect(await handshakeStatus(child.wsUrl, { authorization: `Bearer ${token}` })).toBe(101);

      child.kill('SIGTERM');
      expect((await child.waitForExit(15_000)).code).toBe(0);
      const lines = warnings(child);
      expect(lines).toEqual([expect.stringContaining('Redis (REDIS_URL) unreachable')]);
      const all = [...child.stdout, ...child.stderr].join('\n');
      expect(all).not.toMatch(STACK);
      expect(all).not.toContain("Stream isn't writeable");
    }, 90_000);
  });
});

describe('.env', () => {
  let child: ChildServer | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  it('names a key it does not know in one warning line, with the closest known key', async () => {
    child = await spawnServer({}, 20_000, { dotenv: 'PROT=4142\nLOG_LEVEL=info\n' });
    expect(child.stderr).toEqual([
      '.env: PROT is not a Hubbub key and is ignored; did you mean PORT?',
    ]);
  }, 60_000);
});
