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

  /** A room and a channel whose fan-out partitions and the channel's history partition the master of `slot` serves. */
  async function busyOn(slot: number, tag: string) {
    const partitions = new RedisPartitions(64);
    const seed = cluster.nodes[0].port;
    const slotOf = (name: string) => partitions.slots[partitions.of(name)];
    const { master, replicas } = await ownerOf(seed, slot);
    const named = async (prefix: string, names: (n: string) => string[]) => {
      for (let i = 0; ; i++) {
        const name = `${prefix}-${run}-${i}`;
        const owners = await Promise.all(
          names(name).map(async (n) => (await ownerOf(seed, slotOf(n))).master),
        );
        if (owners.every((port) => port === master)) return name;
      }
    };
    const room = await named(`${tag}-room`, (n) => [roomTopic(n)]);
    const channel = await named(`feed-${tag}`, (n) => [channelTopic(n), n]);
    return { master, replicas, room, channel, slot: slotOf(roomTopic(room)) };
  }

  /** Two users in the room (a on instance a, b on b), a publisher (a) and a reader (b) of the channel, and traffic. */
  async function traffic(room: string, channel: string) {
    const alice = await connectAndJoin(nodes[0].wsUrl, `alice-${room}`, room, clients);
    const bob = await connectAndJoin(nodes[1].wsUrl, `bob-${room}`, room, clients);
    const publisher = await TestClient.connect(
      nodes[0].wsUrl,
      signToken('pub', { publish: ['feed-*'] }),
    );
    const reader = await TestClient.connect(nodes[1].wsUrl, signToken('reader'));
    clients.push(publisher, reader);
    const subscribed = await reader.call('channel.subscribe', { channel });

    // One chat.send and one channel.publish in flight each, until told to stop; acknowledgements recorded. A request
    // with no answer in time, or an error, was not acknowledged: it does not count, the loop goes on.
    const acked: Message[] = [];
    const sentAt = new Map<string, number>();
    const published = new Map<number, number>(); // offset → n
    const ticks: Promise<void>[] = [];
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
    const moreAcked = async (n: number) => {
      const [a, p] = [acked.length, published.size];
      await until(
        async () => Promise.resolve(acked.length >= a + n && published.size >= p + n),
        `${n} more acknowledged sends and publishes`,
        30_000,
      );
    };
    await moreAcked(20);
    // The last publication the reader had live before the fault: its recovery point.
    await reader.next('channel.message', 5000);
    await bob.next('chat.message', 5000);
    const before = reader.frames.filter((f) => f.event === 'channel.message').at(-1)!
      .data as Publication;
    return {
      bob,
      reader,
      before,
      moreAcked,
      /**
       * The first push to bob of a message sent after `at`, and when it came. The loop above has one send in flight,
       * and a send whose fan-out went to the frozen master waits out the command timeout before its reply: so from
       * `at` on, alice also sends a new message every 50 ms without waiting for replies (each acknowledged one is
       * checked like the loop's), and the delay is that of the first one that crosses.
       */
      async crossedAfter(at: number) {
        let k = 0;
        const ticker = setInterval(() => {
          const text = `after ${at} ${k++}`;
          sentAt.set(text, Date.now());
          ticks.push(
            alice
              .request('chat.send', { room, text }, 15_000)
              .then((reply) => {
                if (reply.event !== 'error') acked.push(reply.data.message);
              })
              .catch(() => undefined),
          );
        }, 50);
        try {
          const frame = await bob.next(
            'chat.message',
            2 * HEARTBEAT_MS + 10_000,
            (f) => (sentAt.get(f.data.text as string) ?? 0) >= at,
          );
          const delay = Date.now() - at;
          if (process.env.HUBBUB_TEST_FIGURES)
            process.stderr.write(`push again ${delay} ms after\n`);
          return { frame, delay };
        } finally {
          clearInterval(ticker);
        }
      },
      /** Stops the traffic; then checks chat history and channel recovery against what was acknowledged. */
      async stopAndCheck(crossed: Message) {
        const lastPublished = Math.max(...published.keys());
        await reader.next('channel.message', 15_000, (f) => f.data.offset >= lastPublished);
        stop = true;
        await Promise.all([chat, feed, ...ticks]);

        // Nothing acknowledged is lost: every acked message is in the history with its seq, and seq is gapless.
        const history = await fullHistory(bob, room);
        expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
        const byId = new Map(history.map((m) => [m.id, m]));
        expect(acked.map((m) => byId.get(m.id))).toEqual(acked);
        expect(byId.get(crossed.id)).toEqual(crossed);

        // Recovery from before the fault succeeds (every acknowledged publication reached a replica), contiguous,
        // and every offset carries what its publisher was acknowledged for, and what the reader got live.
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
      },
    };
  }

  /** Until every running node of the cluster says `port` serves `slot`; returns when they agreed. */
  async function agreed(slot: number, port: number, running: number[]): Promise<number> {
    await until(
      async () => {
        const views = await Promise.all(running.map(async (p) => (await ownerOf(p, slot)).master));
        return views.every((v) => v === port);
      },
      'every node to agree on the new master',
      30_000,
    );
    return Date.now();
  }

  const ready = async (node: ChildServer) => (await fetch(`${node.url}/health/ready`)).status;
  const shardChannels = async (port: number) =>
    (await withNode(port, (redis) =>
      redis.call('PUBSUB', 'SHARDCHANNELS', 'hubbub:*'),
    )) as string[];

  it('CLUSTER FAILOVER of a busy master: nothing acknowledged lost, no gap, pushes within 2 × heartbeat', async () => {
    const busy = await busyOn(16383, 'manual');
    const t = await traffic(busy.room, busy.channel);
    await withNode(busy.replicas[0], (redis) => redis.call('CLUSTER', 'FAILOVER'));
    const agreedAt = await agreed(
      busy.slot,
      busy.replicas[0],
      cluster.nodes.map((n) => n.port),
    );
    const crossed = await t.crossedAfter(agreedAt);
    await t.moreAcked(20);
    await t.stopAndCheck(crossed.frame.data as Message);
    expect(crossed.delay).toBeLessThanOrEqual(2 * HEARTBEAT_MS);

    // The partitions' sharded subscriptions left the old master (now a replica) for the new one: its 21 or 22
    // partitions' broadcast channel and the inboxes of both instances.
    expect([63, 66]).toContain((await shardChannels(busy.replicas[0])).length);
    expect(await shardChannels(busy.master)).toEqual([]);
    for (const node of nodes) await until(async () => (await ready(node)) === 200, 'ready');
  }, 120_000);

  it('a master that freezes (SIGSTOP): readiness 503 while its subscriptions are silent, then the replica takes over', async () => {
    // Slot 0's master holds no slot of the presence, quota or liveness families (those are at 7305, 9928, 15428).
    const busy = await busyOn(0, 'frozen');
    const frozen = cluster.nodes.find((n) => n.port === busy.master)!;
    const t = await traffic(busy.room, busy.channel);
    frozen.proc.kill('SIGSTOP');
    try {
      // The sharded connections to it stay open but deliver nothing: only the probes can tell.
      for (const node of nodes) await until(async () => (await ready(node)) === 503, '503', 20_000);
      const running = cluster.nodes.map((n) => n.port).filter((p) => p !== busy.master);
      const agreedAt = await agreed(busy.slot, busy.replicas[0], running);
      const crossed = await t.crossedAfter(agreedAt);
      await t.moreAcked(20);
      await t.stopAndCheck(crossed.frame.data as Message);
      expect(crossed.delay).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
      for (const node of nodes) await until(async () => (await ready(node)) === 200, 'ready');
    } finally {
      frozen.proc.kill('SIGCONT');
    }
  }, 120_000);
});
