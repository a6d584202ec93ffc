import { Redis } from 'ioredis';
import { servicesGate } from '../../test/support/services';
import { RedisKeys } from '../cluster/redis-keys';
import { RedisSlowModeGate } from './redis-slow-mode-gate';

const redis = servicesGate('redis');

redis.describe('RedisSlowModeGate', () => {
  let client: Redis;
  const room = `slow-spec-${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(() => {
    client = new Redis(redis.url);
  });
  afterAll(() => client.quit());

  it('lets one of two gates sharing Redis through per interval, and a release frees the slot', async () => {
    const a = new RedisSlowModeGate(client);
    const b = new RedisSlowModeGate(client);
    const [x, y] = await Promise.all([a.take(room, 'u', 60_000), b.take(room, 'u', 60_000)]);
    expect([x, y].filter((v) => v === 0)).toHaveLength(1);
    expect(Math.max(x, y)).toBeGreaterThan(59_000);
    await a.release(room, 'u');
    expect(await b.take(room, 'u', 60_000)).toBe(0);
    await b.release(room, 'u');
  });

  it('keeps a slot no longer than its interval (the key has a TTL)', async () => {
    const a = new RedisSlowModeGate(client);
    expect(await a.take(room, 'ttl', 5000)).toBe(0);
    const ttl = await client.pttl(RedisKeys.slowMode(room, 'ttl'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
    await a.release(room, 'ttl');
  });
});
