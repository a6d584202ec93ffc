import { randomBytes } from 'node:crypto';
import { type ChildServer, removeBuild } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { rid } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';
import { api, API_KEY, lit, postgresReader } from './privacy-support';

/**
 * Erasure in a cluster: two instances sharing Redis and PostgreSQL. The request reaches one; the person's
 * connections on the other close too, their presence goes everywhere, and the store keeps only tombstones.
 */
const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

gate.describe('erasure of a person on two instances', () => {
  let nodes: ChildServer[] = [];
  let receiver: Receiver;
  const clients: TestClient[] = [];
  const run = rid();

  beforeAll(async () => {
    receiver = await Receiver.start();
    nodes = await spawnCluster(['a', 'b'], (name) => ({
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      NODE_ID: `${name}-${run}`,
      HEARTBEAT_INTERVAL_MS: '1000',
      API_KEY,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: 'warn',
    }));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopCluster(nodes);
    await receiver?.stop();
    removeBuild();
  }, 30_000);

  const connect = async (node: ChildServer, sub: string, name?: string): Promise<TestClient> => {
    const client = await TestClient.connect(node.wsUrl, signToken(sub, name ? { name } : {}));
    clients.push(client);
    return client;
  };

  it('closes their sockets on the other instance with 4403, removes their presence everywhere, leaves tombstones, sends user.erased once', async () => {
    const [alice, bob, room] = [`alice-${run}`, `bob-${run}`, `cluster-erase-${run}`];
    const aliceOnB = await connect(nodes[1], alice, 'Alice');
    const aliceOnA = await connect(nodes[0], alice, 'Alice');
    const bobOnA = await connect(nodes[0], bob);
    await bobOnA.call('chat.join', { room });
    await aliceOnB.call('chat.join', { room });
    await aliceOnA.call('chat.join', { room });
    for (let i = 0; i < 5; i++) await aliceOnB.call('chat.send', { room, text: `from b ${i}` });
    await bobOnA.call('chat.send', { room, text: 'bob here' });

    const closedB = aliceOnB.waitClose(10_000);
    const closedA = aliceOnA.waitClose(10_000);
    const left = bobOnA.next('presence.leave', 10_000, (f) => f.data.userId === alice);
    expect((await api(nodes[0].url, 'DELETE', `/api/users/${alice}`)).status).toBe(202);
    expect(await closedB).toBe(4403);
    expect(await closedA).toBe(4403);
    await left;

    for (const node of nodes) {
      const presence = JSON.parse((await api(node.url, 'GET', `/api/rooms/${room}/presence`)).text);
      expect(presence.members.map((m: { userId: string }) => m.userId)).toEqual([bob]);
    }
    const sql = postgresReader(postgres.url);
    const rows = await sql<{ seq: string; text: string; name: string | null; deleted: boolean }>(
      `SELECT seq, text, name, deleted FROM messages WHERE room = ${lit(room)} ORDER BY seq`,
    );
    expect(rows.map((r) => [Number(r.seq), r.text, r.name, r.deleted])).toEqual([
      [1, '', null, true],
      [2, '', null, true],
      [3, '', null, true],
      [4, '', null, true],
      [5, '', null, true],
      [6, 'bob here', null, false],
    ]);
    await receiver.next('user.erased', (d: { userId: string }) => d.userId === alice);
    // Once per cluster: a later event proves the outbox was drained past it.
    expect((await api(nodes[1].url, 'DELETE', `/api/users/nobody-${run}`)).status).toBe(202);
    await receiver.next('user.erased', (d: { userId: string }) => d.userId === `nobody-${run}`);
    expect(receiver.of('user.erased').filter((d) => d.body.data.userId === alice)).toHaveLength(1);
  }, 120_000);
});
