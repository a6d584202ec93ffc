import type { ChildServer } from '../support/child-server';
import { removeBuild } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { connectAndJoin, fullHistory } from '../support/clients';
import { type Message, rid } from '../support/fixtures';
import {
  ownerOf,
  startRedisCluster,
  stopRedisCluster,
  withNode,
  type RedisClusterProcesses,
} from '../support/redis-cluster';
import { redisBinaryGate, until } from '../support/redis-processes';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { TestClient } from '../support/ws-client';
import { RedisPartitions } from '../../src/cluster/redis-partitions';
import { channelTopic, roomTopic } from '../../src/protocol/topics';

/**
 * A manual `CLUSTER FAILOVER` of the master that holds a busy room's and a busy channel's slots (their fan-out
 * partitions and the channel's history), during traffic, on a Redis Cluster of the test's own (3 masters, 3
 * replicas) with two Hubbub instances: no acknowledged chat message is lost, recovery of the channel still succeeds
 * and never hides a gap (every offset it returns carries the data its publisher was acknowledged for, and nothing
 * in between is missing), and pushes cross instances again within 2 × HEARTBEAT_INTERVAL_MS of every node of the
 * cluster agreeing on the new master.
 */
const postgres = servicesGate('postgres');
const gate = redisBinaryGate(postgres, 'the Redis Cluster failover test');
const HEARTBEAT_MS = 1000;
const run = rid();

interface Publication {
  offset: number;
  data: { n: number };
}

gate.describe('a Redis Cluster failover during traffic', () => {
  let cluster: RedisClusterProcesses;
  let nodes: ChildServer[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    nodes = await spawnCluster(
      ['a', 'b'],
      (name) => ({
        REDIS_CLUSTER_NODES: cluster.seeds,
        DATABASE_URL: postgres.url,
        NODE_ID: `failover-${name}-${run}`,
        HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
        CHANNEL_HISTORY_SIZE: '100000',
        RATE_LIMIT_PER_SEC: '100000',
        RATE_LIMIT_BURST: '100000',
        LOG_LEVEL: 'warn',
      }),
      60_000,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopCluster(nodes);
    await stopRedisCluster(cluster);
    removeBuild();
  }, 60_000);

  it('loses nothing acknowledged, recovers without a gap, and pushes again within 2 × heartbeat', async () => {
    // A room and a channel whose fan-out partitions and history partition are all served by one master.
    const partitions = new RedisPartitions(64);
    const seed = cluster.nodes[0].port;
    const slotOf = (name: string) => partitions.slots[partitions.of(name)];
    const room = `busy-${run}`;
    const { master, replicas } = await ownerOf(seed, slotOf(roomTopic(room)));
    let channel = '';
    for (let i = 0; !channel; i++) {
      const name = `feed-${run}-${i}`;
      const owners = await Promise.all(
        [channelTopic(name), name].map(async (n) => (await ownerOf(seed, slotOf(n))).master),
      );
      if (owners.every((port) => port === master)) channel = name;
    }

    const alice = await connectAndJoin(nodes[0].wsUrl, 'alice', room, clients);
    const bob = await connectAndJoin(nodes[1].wsUrl, 'bob', room, clients);
    const publisher = await TestClient.connect(
      nodes[0].wsUrl,
      signToken('pub', { publish: ['feed-*'] }),
    );
    const reader = await TestClient.connect(nodes[1].wsUrl, signToken('reader'));
    clients.push(publisher, reader);
    const subscribed = await reader.call('channel.subscribe', { channel });

    // Traffic: one chat.send and one channel.publish in flight each, until told to stop; acknowledgements recorded.
    const acked: Message[] = [];
    const sentAt = new Map<string, number>();
    const published = new Map<number, number>(); // offset → n
    let stop = false;
    const chat = (async () => {
      for (let n = 0; !stop; n++) {
        const text = `during ${n}`;
        sentAt.set(text, Date.now());
        const reply = await alice
          .request('chat.send', { room, text }, 15_000)
          .catch(() => undefined);
        if (reply && reply.event !== 'error') acked.push(reply.data.message);
      }
    })();
    const feed = (async () => {
      for (let n = 0; !stop; n++) {
        const reply = await publisher
          .request('channel.publish', { channel, data: { n } }, 15_000)
          .catch(() => undefined);
        if (reply && reply.event !== 'error') published.set(reply.data.offset, n);
      }
    })();
    await until(
      async () => Promise.resolve(acked.length >= 20 && published.size >= 20),
      '20 acknowledged sends and publishes',
    );
    // The last publication the reader had live before the failover: its recovery point.
    await reader.next('channel.message', 5000);
    await bob.next('chat.message', 5000);
    const before = reader.frames.filter((f) => f.event === 'channel.message').at(-1)!
      .data as Publication;

    await withNode(replicas[0], (redis) => redis.call('CLUSTER', 'FAILOVER'));
    await until(
      async () => {
        const views = await Promise.all(
          cluster.nodes.map(async (n) => (await ownerOf(n.port, slotOf(roomTopic(room)))).master),
        );
        return views.every((port) => port === replicas[0]);
      },
      'every node to agree on the new master',
      30_000,
    );
    const agreedAt = Date.now();

    // A push sent after the agreement crosses instances within 2 × heartbeat of it.
    const crossed = await bob.next(
      'chat.message',
      2 * HEARTBEAT_MS + 10_000,
      (f) => (sentAt.get(f.data.text as string) ?? 0) >= agreedAt,
    );
    const pushDelay = Date.now() - agreedAt;
    // Traffic goes on through the new master for a while: 20 more of each acknowledged, and received live.
    const [ackedAt, publishedAt] = [acked.length, published.size];
    await until(
      async () =>
        Promise.resolve(acked.length >= ackedAt + 20 && published.size >= publishedAt + 20),
      '20 more acknowledged sends and publishes',
      30_000,
    );
    const lastPublished = Math.max(...published.keys());
    await reader.next('channel.message', 15_000, (f) => f.data.offset >= lastPublished);
    stop = true;
    await Promise.all([chat, feed]);
    expect(pushDelay).toBeLessThanOrEqual(2 * HEARTBEAT_MS);

    // The partitions' sharded subscriptions left the old master (now a replica) for the new one: its 21 or 22
    // partitions' broadcast channel and the inboxes of both instances.
    const shardChannels = async (port: number) =>
      (await withNode(port, (redis) =>
        redis.call('PUBSUB', 'SHARDCHANNELS', 'hubbub:*'),
      )) as string[];
    expect([63, 66]).toContain((await shardChannels(replicas[0])).length);
    expect(await shardChannels(master)).toEqual([]);

    // Nothing acknowledged is lost: every acked message is in the history with its seq, and seq is gapless.
    const history = await fullHistory(bob, room);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
    const byId = new Map(history.map((m) => [m.id, m]));
    expect(acked.map((m) => byId.get(m.id))).toEqual(acked);
    expect(byId.get(crossed.data.id as string)).toEqual(crossed.data);

    // Recovery from before the failover succeeds (the manual failover waited for the replica), contiguous, and
    // every offset carries what its publisher was acknowledged for, and what the reader got live.
    const late = await TestClient.connect(nodes[0].wsUrl, signToken('late'));
    clients.push(late);
    const recovered = await late.call('channel.subscribe', {
      channel,
      since: before.offset,
      epoch: subscribed.epoch,
    });
    expect(recovered.recovered).toBe(true);
    const pubs = recovered.publications as Publication[];
    expect(pubs.map((p) => p.offset)).toEqual(pubs.map((_, i) => before.offset + 1 + i));
    expect(pubs.at(-1)?.offset ?? before.offset).toBe(recovered.offset);
    const inHistory = new Map(pubs.map((p) => [p.offset, p.data.n]));
    for (const [offset, n] of published)
      if (offset > before.offset) expect([offset, inHistory.get(offset)]).toEqual([offset, n]);
    for (const f of reader.frames.filter((x) => x.event === 'channel.message')) {
      const p = f.data as Publication;
      if (p.offset > before.offset)
        expect([p.offset, inHistory.get(p.offset)]).toEqual([p.offset, p.data.n]);
    }

    // Both instances ready again: every partition's sharded subscription proven to deliver.
    for (const node of nodes) {
      await until(
        async () => (await fetch(`${node.url}/health/ready`)).status === 200,
        `${node.url} ready`,
        2 * HEARTBEAT_MS + 10_000,
      );
    }
  }, 180_000);
});
