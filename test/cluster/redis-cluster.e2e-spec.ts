import { RedisPartitions } from '../../src/cluster/redis-partitions';
import { clusterCases } from './cluster-suite';
import {
  masterRanges,
  startRedisCluster,
  stopRedisCluster,
  withNode,
  type RedisClusterProcesses,
} from '../support/redis-cluster';
import { redisBinaryGate } from '../support/redis-processes';
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
