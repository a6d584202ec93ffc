import type { Redis } from 'ioredis';
import type { BrokerMessage } from '../../src/broker/broker';
import { ShardedRedisBroker } from '../../src/broker/sharded-redis-broker';
import { PartitionKeys } from '../../src/cluster/redis-keys';
import { RedisPartitions } from '../../src/cluster/redis-partitions';
import { connectRedis, createRedis } from '../../src/cluster/redis.provider';
import { roomTopic } from '../../src/protocol/topics';
import { until } from '../support/redis-processes';
import { clusterCases } from './cluster-suite';
import {
  masterRanges,
  startRedisCluster,
  stopRedisCluster,
  withNode,
  type RedisClusterProcesses,
} from '../support/redis-cluster';
import { redisBinaryGate } from '../support/redis-processes';
import { rid } from '../support/fixtures';
import { servicesGate } from '../support/services';

/**
 * Cluster mode on a real Redis Cluster of the test's own (6 redis-server processes on spare ports: 3 masters, 3
 * replicas): the partitions' hash tags spread over the masters, and the cluster-mode cases of one Redis
 * (cluster-suite.ts: chat across instances, channels with recovery, presence, webhooks exactly once, instance
 * death) pass on it unchanged.
 */
const postgres = servicesGate('postgres');
const gate = redisBinaryGate(postgres, 'the Redis Cluster tests');

gate.describe('cluster mode on a Redis Cluster (3 masters, 3 replicas)', () => {
  let cluster: RedisClusterProcesses;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 120_000);

  afterAll(async () => {
    await stopRedisCluster(cluster);
  }, 30_000);

  it('spreads the 64 partitions evenly over the 3 masters (21 or 22 each)', async () => {
    const partitions = new RedisPartitions(64);
    const ranges = await masterRanges(cluster.nodes[0].port);
    expect(ranges.size).toBe(3);
    const perMaster = [...ranges.values()].map(
      (owned) =>
        partitions.slots.filter((slot) => owned.some(([from, to]) => slot >= from && slot <= to))
          .length,
    );
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(64);
    for (const n of perMaster) expect([21, 22]).toContain(n);
    // Each tag is the one of its partition's slot (no two partitions share a tag).
    expect(new Set(partitions.tags).size).toBe(64);
  });

  it("rebuilds a partition's sharded subscription that silently stopped, unhealthy until it delivers again", async () => {
    const partitions = new RedisPartitions(8);
    const target = {
      cluster: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      partitions: 8,
      slotsRefreshMs: 250,
    };
    const clients: Redis[] = [];
    const client = async (name: string) => {
      const redis = createRedis(target, name);
      clients.push(redis);
      await connectRedis(redis);
      return redis;
    };
    const [a, b] = [`probe-a-${rid()}`, `probe-b-${rid()}`];
    const sender = new ShardedRedisBroker(
      await client('commands'),
      await client('subscriber'),
      a,
      partitions,
      200,
    );
    const subRedis = await client('subscriber');
    const receiver = new ShardedRedisBroker(await client('commands'), subRedis, b, partitions, 200);
    const got: BrokerMessage[] = [];
    try {
      await sender.start(() => undefined);
      await receiver.start((m) => got.push(m));
      const topic = roomTopic(`probed-${rid()}`);
      receiver.interest(topic, true);
      await until(async () => {
        await sender.publish({ topic, payload: 'first' });
        return got.some((m) => m.payload === 'first');
      }, 'a first push across');
      await until(() => Promise.resolve(receiver.isHealthy()), 'healthy');

      // The server forgets the subscription and the broker is not told (as when a client library misses an
      // unsolicited `sunsubscribe`): only the probe of that partition can tell.
      const tag = partitions.hashTag(partitions.of(topic));
      await subRedis.sunsubscribe(PartitionKeys.inbox(tag, b), PartitionKeys.all(tag));
      await until(() => Promise.resolve(!receiver.isHealthy()), 'unhealthy', 5000);
      expect(receiver.unhealthyPartitions()).toEqual([partitions.of(topic)]);
      await until(() => Promise.resolve(receiver.isHealthy()), 'healthy again', 5000);
      await sender.publish({ topic, payload: 'after' });
      await until(() => Promise.resolve(got.some((m) => m.payload === 'after')), 'the push after');
    } finally {
      await sender.close();
      await receiver.close();
      for (const c of clients) c.disconnect();
    }
  });

  describe('three instances on it', () => {
    clusterCases(() => ({ REDIS_CLUSTER_NODES: cluster.seeds }), postgres.url);

    it("subscribes each instance's partitions on the masters that serve them, none elsewhere", async () => {
      const ranges = await masterRanges(cluster.nodes[0].port);
      const counts = await Promise.all(
        [...ranges.keys()].map((port) =>
          withNode(port, async (redis) => {
            const channels = (await redis.call('PUBSUB', 'SHARDCHANNELS', 'hubbub:*')) as string[];
            return channels.length;
          }),
        ),
      );
      // Per partition: its broadcast channel and the inbox of each of the instances still running (one was killed
      // by the last case, but may not have been unsubscribed yet): 21 or 22 partitions × (1 + 2..3) channels.
      for (const n of counts) {
        expect(n).toBeGreaterThanOrEqual(21 * 3);
        expect(n).toBeLessThanOrEqual(22 * 4);
      }
      const replicas = cluster.nodes.map((n) => n.port).filter((port) => !ranges.has(port));
      expect(replicas).toHaveLength(3);
      for (const port of replicas) {
        const channels = await withNode(
          port,
          async (redis) => (await redis.call('PUBSUB', 'SHARDCHANNELS', 'hubbub:*')) as string[],
        );
        expect(channels).toEqual([]);
      }
    });
  });
});
