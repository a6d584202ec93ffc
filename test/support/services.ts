/**
 * External services (PostgreSQL, Redis) for tests, and a gate that skips or
 * fails a describe block when a service is down.
 *
 * How the gate works: jest collects tests synchronously (describe callbacks
 * cannot await), and a test cannot skip itself at run time. So the gate probes
 * the service SYNCHRONOUSLY at collection time, by running a tiny probe script
 * in a child node process with spawnSync (~50 ms), caching the answer in a
 * module variable (jest gives each spec file its own module registry, so that
 * is one probe per service per spec file). Then it registers the block with
 * describe (up), describe.skip (down) or one failing test (down and
 * REQUIRE_SERVICES=1, e.g. in CI where a missing service is a setup error).
 *
 * The same probe scripts also back the async postgresAvailable() /
 * redisAvailable() helpers, so there is a single definition of "reachable".
 */
import { execFile, spawnSync } from 'node:child_process';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Service = 'postgres' | 'redis';

const PROBE_TIMEOUT_MS = 2000;

/**
 * Plain-JS probe scripts run as `node -e <script> <url> [pgPath]`; exit code 0
 * means reachable. Each arms its own 2 s deadline.
 */
const PROBES: Record<Service, string> = {
  // connect + SELECT 1 with the project's pg driver (path passed as argv[2]).
  postgres: `
    setTimeout(() => process.exit(1), ${PROBE_TIMEOUT_MS}).unref();
    const { Client } = require(process.argv[2]);
    const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: ${PROBE_TIMEOUT_MS} });
    c.on('error', () => process.exit(1));
    c.connect().then(() => c.query('SELECT 1')).then(() => process.exit(0), () => process.exit(1));`,
  // raw RESP over TCP: [AUTH] + PING, reachable iff a +PONG reply arrives.
  redis: `
    setTimeout(() => process.exit(1), ${PROBE_TIMEOUT_MS}).unref();
    const u = new URL(process.argv[1]);
    const resp = (...a) => '*' + a.length + '\\r\\n' + a.map((s) => '$' + Buffer.byteLength(s) + '\\r\\n' + s + '\\r\\n').join('');
    let cmd = '', replies = 1;
    if (u.password) {
      const pass = decodeURIComponent(u.password);
      cmd += u.username ? resp('AUTH', decodeURIComponent(u.username), pass) : resp('AUTH', pass);
      replies++;
    }
    cmd += resp('PING');
    const host = u.hostname.replace(/^\\[|\\]$/g, '') || '127.0.0.1';
    const s = require('node:net').connect(Number(u.port || 6379), host, () => s.write(cmd));
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('+PONG\\r\\n')) process.exit(0);
      if (buf.split('\\r\\n').length > replies) process.exit(1); // all replies in, no PONG
    });
    s.on('error', () => process.exit(1));
    s.on('close', () => process.exit(1));`,
};

const URLS: Record<Service, string> = { postgres: TEST_DATABASE_URL, redis: TEST_REDIS_URL };

function probeArgs(service: Service, url: string): string[] {
  const args = ['-e', PROBES[service], url];
  if (service === 'postgres') args.push(require.resolve('pg'));
  return args;
}

// jest sets NODE_OPTIONS=--experimental-vm-modules; the child needs none of it.
const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NODE_OPTIONS: '' });

function probe(service: Service, url: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      probeArgs(service, url),
      { env: childEnv(), timeout: PROBE_TIMEOUT_MS + 1000 },
      (err) => resolve(!err),
    );
  });
}

function probeSync(service: Service, url: string): boolean {
  const r = spawnSync(process.execPath, probeArgs(service, url), {
    env: childEnv(),
    stdio: 'ignore',
    timeout: PROBE_TIMEOUT_MS + 1000,
  });
  return r.status === 0;
}

/** connect + SELECT 1 within 2 s. */
export function postgresAvailable(url: string = TEST_DATABASE_URL): Promise<boolean> {
  return probe('postgres', url);
}

/** Raw TCP PING via node:net expecting +PONG within 2 s (AUTH first if the URL has a password). */
export function redisAvailable(url: string = TEST_REDIS_URL): Promise<boolean> {
  return probe('redis', url);
}

/** URL without its password, for log lines. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export interface ServiceGate {
  readonly service: Service;
  readonly url: string;
  readonly available: boolean;
  /** describe() when the service is up; otherwise skipped, or failing under REQUIRE_SERVICES=1. */
  describe(name: string, fn: () => void): void;
}

const availability = new Map<Service, boolean>();

/**
 * Use at the top level of a spec: `const pg = servicesGate('postgres')` then `pg.describe('...', () => {...})`.
 * When the service is unreachable: if process.env.REQUIRE_SERVICES === '1' the tests fail with a clear error; else prints ONE line to stderr ("skipping <name> tests: <url> unreachable"; not console.warn, which jest prints as a block with a stack location) and the block is skipped.
 */
export function servicesGate(service: Service): ServiceGate {
  const url = URLS[service];
  const required = process.env.REQUIRE_SERVICES === '1';
  let available = availability.get(service);
  if (available === undefined) {
    available = probeSync(service, url);
    availability.set(service, available);
    if (!available && !required) {
      // Not console.warn: jest prints that as a block with a stack location, and this is one line.
      process.stderr.write(`skipping ${service} tests: ${redact(url)} unreachable\n`);
    }
  }
  const up = available;
  return {
    service,
    url,
    available: up,
    describe(name, fn) {
      if (up) return describe(name, fn);
      if (!required) return describe.skip(name, fn);
      describe(name, () => {
        test(`${service} is reachable at ${redact(url)} (required by REQUIRE_SERVICES=1)`, () => {
          throw new Error(
            `${service} unreachable at ${redact(url)} and REQUIRE_SERVICES=1: start it or set ` +
              `${service === 'postgres' ? 'TEST_DATABASE_URL' : 'TEST_REDIS_URL'}`,
          );
        });
      });
    },
  };
}
