import type { ChildProcess } from 'node:child_process';
import { freePort, removeBuild, type ChildServer } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { rid } from '../support/fixtures';
import {
  redisBinaryGate,
  startEphemeralRedis,
  stopProcess,
  until,
} from '../support/redis-processes';
import { connectAndJoin } from '../support/clients';
import { servicesGate } from '../support/services';
import { TestClient } from '../support/ws-client';

/**
 * Redis stopped and started again under two running instances: they keep serving their own connections
 * (chat replies still follow the PostgreSQL commit), report 503 on readiness, and reconnect, resubscribe and
 * rewrite their state by themselves. The test runs its own redis-server so it can stop it.
 */
const postgres = servicesGate('postgres');
const run = rid();

/** Readiness has no event to await: poll it. */
function readiness(node: ChildServer, expected: number): Promise<void> {
  return until(
    async () => (await fetch(`${node.url}/health/ready`)).status === expected,
    `${node.url}/health/ready to answer ${expected}`,
    10_000,
  );
}

/** The test needs a redis-server binary of its own to stop and start; a fresh machine may not have one. */
const gate = redisBinaryGate(postgres, 'the Redis restart test');

gate.describe('Redis restarted under a running cluster', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let nodes: ChildServer[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startEphemeralRedis(redisPort);
    nodes = await spawnCluster(['a', 'b'], (name) => ({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATABASE_URL: postgres.url,
      NODE_ID: `fault-${name}-${run}`,
      HEARTBEAT_INTERVAL_MS: '1000',
      LOG_LEVEL: 'error',
    }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopCluster(nodes);
    await stopProcess(redis);
    removeBuild();
  }, 30_000);

  it('serves local connections during the outage, flips readiness, and recovers', async () => {
    const room = `outage-${run}`;
    const connect = (node: ChildServer, sub: string) =>
      connectAndJoin(node.wsUrl, sub, room, clients);
    const alice = await connect(nodes[0], 'alice');
    const carol = await connect(nodes[0], 'carol');
    const bob = await connect(nodes[1], 'bob');
    await Promise.all(nodes.map((n) => readiness(n, 200)));

    await stopProcess(redis);
    await Promise.all(nodes.map((n) => readiness(n, 503)));

    // Acknowledged after the PostgreSQL commit, pushed to the same instance, missed by the other one.
    const during = await alice.call('chat.send', { room, text: 'during the outage' });
    expect((await carol.next('chat.message')).data).toEqual(during.message);

    redis = await startEphemeralRedis(redisPort);
    await Promise.all(nodes.map((n) => readiness(n, 200)));

    // Routes and subscriptions are back: a push crosses instances again.
    const after = await alice.call('chat.send', { room, text: 'after the outage' });
    expect(
      (await bob.next('chat.message', 10_000, (f) => f.data.seq === after.message.seq)).data,
    ).toEqual(after.message);
    // The missed push is recoverable through the gapless seq.
    const history = await bob.call('chat.history', { room, after: during.message.seq - 1 });
    expect(history.messages.map((m: { text: string }) => m.text)).toEqual([
      'during the outage',
      'after the outage',
    ]);
    // Presence was rewritten by each instance into the empty Redis.
    const members = await bob.call('presence.list', { room });
    expect(members.members.map((m: { userId: string }) => m.userId).sort()).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
  }, 60_000);
});
