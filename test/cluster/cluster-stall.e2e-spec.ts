import { Redis } from 'ioredis';
import { RedisKeys } from '../../src/cluster/redis-keys';
import { roomTopic } from '../../src/protocol/topics';
import { removeBuild, type ChildServer } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { rid } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { TestClient } from '../support/ws-client';

/**
 * An instance taken for dead while it still serves its clients (docs/scaling.md, presence and liveness): it is
 * stopped with SIGSTOP for longer than its liveness TTL, so the other instance reaps it (its routes, presence and
 * counts). Once it runs again it must notice, write its state back and keep receiving pushes from the other
 * instance. The second case forces the narrow race on purpose: a reap still under way (its lock held) when the
 * stalled instance wakes up; the instance must wait for it, or the reap would remove what it just rewrote.
 */
const redisGate = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redisGate.available ? postgres : redisGate;
const HEARTBEAT_MS = 1000;
const run = rid();

gate.describe('an instance stalled past its liveness TTL', () => {
  let nodes: ChildServer[] = [];
  const clients: TestClient[] = [];
  let redis: Redis;
  const nodeId = (name: string) => `stall-${name}-${run}`;
  const routeOf = (room: string) => RedisKeys.route(roomTopic(room));

  beforeAll(async () => {
    redis = new Redis(redisGate.url, { lazyConnect: true });
    await redis.connect();
    nodes = await spawnCluster(['a', 'b'], (name) => ({
      REDIS_URL: redisGate.url,
      DATABASE_URL: postgres.url,
      NODE_ID: nodeId(name),
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      RATE_LIMIT_PER_SEC: '100000',
      RATE_LIMIT_BURST: '100000',
      LOG_LEVEL: 'warn',
    }));
  }, 60_000);

  afterEach(async () => {
    nodes[1]?.kill('SIGCONT');
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await stopCluster(nodes);
    redis?.disconnect();
    removeBuild();
  }, 30_000);

  const ready = async (node: ChildServer) => (await fetch(`${node.url}/health/ready`)).status;

  /** Alice on a, bob on b, both in one room; returns them once a push crosses from a to b. */
  async function pair(room: string) {
    const alice = await TestClient.connect(nodes[0].wsUrl, signToken(`alice-${run}`));
    const bob = await TestClient.connect(nodes[1].wsUrl, signToken(`bob-${run}`));
    clients.push(alice, bob);
    await alice.call('chat.join', { room });
    await bob.call('chat.join', { room });
    await alice.next('presence.join', 5000, (f) => f.data.member.userId === `bob-${run}`);
    const sent = await alice.call('chat.send', { room, text: 'before' });
    await bob.next('chat.message', 5000, (f) => f.data.id === sent.message.id);
    return { alice, bob };
  }

  /**
   * Stops b between two of its heartbeat sweeps (half an interval after a ping reached bob, so bob's pong is
   * already counted and the sweep that runs first on waking does not drop bob), until a has reaped it.
   */
  async function stallUntilReaped(alice: TestClient, bob: TestClient, room: string) {
    await new Promise<void>((resolve) => bob.ws.once('ping', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS / 2));
    nodes[1].kill('SIGSTOP');
    // a reaps b: bob leaves the room in a's eyes, and b's routes are gone.
    await alice.next('presence.leave', 4 * HEARTBEAT_MS, (f) => f.data.userId === `bob-${run}`);
    await waitFor(async () => (await redis.sismember(routeOf(room), nodeId('b'))) === 0);
  }

  /** Sends from a until one push reaches bob on b; fails after `ms`. */
  async function crossesAgain(alice: TestClient, bob: TestClient, room: string, ms: number) {
    const arrived = bob.next('chat.message', ms, (f) => f.data.text === 'after');
    let done = false;
    void arrived.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      await alice.call('chat.send', { room, text: 'after' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return arrived;
  }

  it('writes its routes and presence back after waking, and pushes reach it again', async () => {
    const room = `stall-${run}`;
    const { alice, bob } = await pair(room);
    await stallUntilReaped(alice, bob, room);

    nodes[1].kill('SIGCONT');
    await alice.next('presence.join', 5000, (f) => f.data.member.userId === `bob-${run}`);
    await crossesAgain(alice, bob, room, 5000);
    expect(await redis.sismember(routeOf(room), nodeId('b'))).toBe(1);
    expect(await ready(nodes[1])).toBe(200);
    const list = await alice.call('presence.list', { room });
    expect(list.members.map((m: { userId: string }) => m.userId).sort()).toEqual([
      `alice-${run}`,
      `bob-${run}`,
    ]);
  }, 30_000);

  it('waits for a reap still under way before writing its state back', async () => {
    const room = `stall-lock-${run}`;
    const { alice, bob } = await pair(room);
    await stallUntilReaped(alice, bob, room);
    // Another instance is (as far as b can tell) still reaping it: the lock is held when b wakes up.
    const lock = RedisKeys.reapLock(nodeId('b'));
    await redis.set(lock, 'another-instance', 'PX', 60_000);
    nodes[1].kill('SIGCONT');

    // b is alive again (its liveness key is back) but keeps out of readiness and writes nothing meanwhile.
    await waitFor(async () => (await redis.exists(RedisKeys.nodeAlive(nodeId('b')))) === 1);
    for (let i = 0; i < 5; i++) {
      expect(await ready(nodes[1])).toBe(503);
      expect(await redis.sismember(routeOf(room), nodeId('b'))).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS / 3));
    }

    await redis.del(lock);
    await alice.next('presence.join', 5000, (f) => f.data.member.userId === `bob-${run}`);
    await crossesAgain(alice, bob, room, 5000);
    expect(await ready(nodes[1])).toBe(200);
  }, 30_000);
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
