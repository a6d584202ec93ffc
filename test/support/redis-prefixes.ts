import { Redis } from 'ioredis';
import { rid } from './fixtures';

/** Every key under the prefix (SCAN, never KEYS). The test prefixes contain no glob characters. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function deleteUnder(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  if (keys.length > 0) await client.del(...keys);
}

export interface RedisPrefixes {
  /** The block's client (connected in beforeAll, quit in afterAll). */
  readonly client: Redis;
  /** A new random key prefix `test:<area>:<random>:`; its keys are deleted after the test. */
  fresh(): string;
}

/**
 * Call inside a describe block of a Redis spec: one client for the block, and random key prefixes so that
 * tests share the server without seeing each other's keys, cleaned up after each test.
 */
export function redisPrefixes(url: string, area: string): RedisPrefixes {
  let client: Redis | undefined;
  let used: string[] = [];

  beforeAll(() => {
    client = new Redis(url);
  });
  afterEach(async () => {
    await Promise.all(used.map((p) => deleteUnder(client!, p)));
    used = [];
  });
  afterAll(async () => {
    await client?.quit();
  });

  return {
    get client(): Redis {
      if (!client) throw new Error('the Redis client is connected in beforeAll');
      return client;
    },
    fresh(): string {
      const prefix = `test:${area}:${rid()}:`;
      used.push(prefix);
      return prefix;
    },
  };
}
