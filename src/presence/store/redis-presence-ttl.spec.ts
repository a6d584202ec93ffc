import { redisPrefixes } from '../../../test/support/redis-prefixes';
import { servicesGate } from '../../../test/support/services';
import { RedisPresenceStore } from './redis-presence-store';

const redis = servicesGate('redis');

/** The one key presence keeps while idle, `transitions`, expires a day after the last transition. */
redis.describe('RedisPresenceStore transitions key', () => {
  const scratch = redisPrefixes(redis.url, 'presence-ttl');

  it('expires a day after the last transition, and a new epoch never reuses an id', async () => {
    const prefix = scratch.fresh();
    const store = new RedisPresenceStore(scratch.client, { prefix });
    const conn = { connId: 'c1', userId: 'u1', node: 'n1' };
    await store.connect(conn);
    const first = await store.join('r', conn);
    const ttl = await scratch.client.ttl(`${prefix}transitions`);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
    // Forgotten (as after an idle day): the next id comes from a new epoch.
    await scratch.client.del(`${prefix}transitions`);
    await store.leave('r', conn);
    const second = await store.join('r', conn);
    expect(second.transition?.id).not.toBe(first.transition?.id);
    await store.disconnect(conn);
  });
});
