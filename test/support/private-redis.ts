import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './child-server';
import { redisBinaryGate, startEphemeralRedis, stopProcess } from './redis-processes';

export interface PrivateRedis {
  readonly url: string;
  /** A new client on the private server, disconnected after the block. */
  client(): Redis;
  /** Empties the private server (never the shared one): what a Redis restart without persistence does. */
  flush(): Promise<void>;
}

/**
 * Call inside a describe block: a redis-server of the block's own on a free port, for suites whose keys have fixed
 * names (`hubbub:conns:total`, `hubbub:all`) that the shared Redis of other tests also writes.
 */
export function privateRedis(): PrivateRedis {
  let proc: ChildProcess | undefined;
  let url = '';
  const clients: Redis[] = [];
  beforeAll(async () => {
    const port = await freePort();
    proc = await startEphemeralRedis(port);
    url = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await stopProcess(proc);
  });
  return {
    get url() {
      return url;
    },
    client() {
      const c = new Redis(url);
      clients.push(c);
      return c;
    },
    async flush() {
      const c = new Redis(url);
      await c.flushall();
      c.disconnect();
    },
  };
}

/** `describe` when the redis-server binary exists (see redisBinaryGate). */
export const privateRedisGate = redisBinaryGate(
  { describe },
  'a suite with a redis-server of its own',
);
