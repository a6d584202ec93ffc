import { keysUnder, redisPrefixes } from '../../../test/support/redis-prefixes';
import { servicesGate } from '../../../test/support/services';
import { HubbubError } from '../../protocol/errors';
import { RedisPartitions } from '../../cluster/redis-partitions';
import { describeChannelHistory } from './channel-history.contract';
import { RedisChannelHistory, type RedisChannelHistoryOptions } from './redis-channel-history';

/**
 * RedisChannelHistory with a Redis Cluster's layout (a key prefix per partition, each with its own meta and byte
 * budget) and its replica acknowledgement, on the test Redis: the contract holds, and the options do what they say.
 */
const redis = servicesGate('redis');
const partitions = new RedisPartitions(8);

redis.describe('RedisChannelHistory in partitions (Redis Cluster layout)', () => {
  const scratch = redisPrefixes(redis.url, 'history-partitions');

  const bases = new WeakMap<RedisChannelHistory, string>();
  const fresh = (opts: Omit<RedisChannelHistoryOptions, 'prefix'>, within = partitions) => {
    const base = scratch.fresh();
    const history = new RedisChannelHistory(scratch.client, {
      prefix: base,
      prefixOf: (channel) => `${base}${within.hashTag(within.of(channel))}:`,
      ...opts,
    });
    bases.set(history, base);
    return history;
  };

  // The contract, whose budget is one for all channels: one partition (its tagged layout, one budget).
  const one = new RedisPartitions(1);
  describeChannelHistory(
    'redis-partitions',
    (opts) => Promise.resolve(fresh(opts, one)),
    async (history) => {
      const keys = await keysUnder(scratch.client, bases.get(history as RedisChannelHistory)!);
      if (keys.length > 0) await scratch.client.del(...keys);
      return history;
    },
  );

  it('keeps a byte budget per partition: a busy partition does not evict another', async () => {
    const [a, b] = ['feed-a', 'feed-b'];
    expect(partitions.of(a)).not.toBe(partitions.of(b));
    const history = fresh({ size: 100, ttlMs: 60_000, maxBytes: 400 });
    await history.publish(b, 'keep');
    for (let i = 0; i < 20; i++) await history.publish(a, `fill ${i}`);
    const kept = await history.recover(b, { offset: 0, epoch: (await history.recover(b)).epoch });
    expect(kept.recovered).toBe(true);
    expect(kept.publications.map((p) => p.data)).toEqual(['keep']);
    const busy = await history.recover(a, { offset: 0, epoch: (await history.recover(a)).epoch });
    expect(busy.recovered).toBe(false);
  });

  it('answers overloaded, and counts nothing it pushed, when no replica acknowledges', async () => {
    const waited: string[] = [];
    let acks: number | undefined = 0;
    const history = fresh({
      size: 10,
      ttlMs: 60_000,
      replicaAck: { timeoutMs: 5, waitFor: (key) => (waited.push(key), Promise.resolve(acks)) },
    });
    const refused = await history.publish('feed', 1).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HubbubError);
    expect((refused as HubbubError).code).toBe('overloaded');
    expect(waited[0]).toContain(partitions.hashTag(partitions.of('feed')));
    acks = 1;
    expect((await history.publish('feed', 2)).offset).toBe(2);
    acks = undefined; // no replica at all: nothing to wait for
    expect((await history.publish('feed', 3)).offset).toBe(3);
  });
});
