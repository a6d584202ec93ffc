import { randomBytes } from 'node:crypto';
import { removeBuild, type ChildEnv, type ChildServer } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { pgQuery } from '../support/pg-query';
import { until } from '../support/redis-processes';
import { Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';
import { signToken } from '../support/tokens';

/**
 * The cluster-mode cases: three server processes sharing Redis (`redisEnv()`: REDIS_URL, or REDIS_CLUSTER_NODES of a
 * Redis Cluster) and PostgreSQL, as behind a load balancer: every promise of the contract must hold whichever instance
 * a client happens to reach. Called inside a describe block; `redisEnv` is read once the outer beforeAll ran.
 */
export function clusterCases(redisEnv: () => ChildEnv, databaseUrl: string): void {
  const HEARTBEAT_MS = 1000;
  const API_KEY = 'cluster-key';
  const api = serverApi(API_KEY);
  const run = rid();
  // The webhook outbox of these instances only: a schema of their own.
  const schema = `hubbub_cluster_${randomBytes(4).toString('hex')}`;
  let nodes: ChildServer[] = [];
  let hooks: Receiver;
  const clients: TestClient[] = [];
  const room = (name: string): string => `${name}-${run}`;

  const connect = async (node: ChildServer, sub: string, claims: Record<string, unknown> = {}) => {
    const client = await TestClient.connect(node.wsUrl, signToken(sub, claims));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    await pgQuery(databaseUrl, `CREATE SCHEMA "${schema}"`);
    hooks = await Receiver.start();
    const url = new URL(databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    nodes = await spawnCluster(['a', 'b', 'c'], (name) => ({
      ...redisEnv(),
      DATABASE_URL: url.toString(),
      NODE_ID: `${name}-${run}`,
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      MAX_CONNECTIONS_PER_USER: '3',
      API_KEY,
      WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      RATE_LIMIT_PER_SEC: '1000',
      RATE_LIMIT_BURST: '1000',
      LOG_LEVEL: 'warn',
    }));
  }, 60_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await stopCluster(nodes);
    await hooks?.stop();
    await pgQuery(databaseUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    removeBuild();
  }, 30_000);

  it('sends each lifecycle webhook once when the last two users of rooms leave on two instances at once', async () => {
    const alice = await connect(nodes[0], 'alice');
    const bob = await connect(nodes[1], 'bob');
    const rooms = Array.from({ length: 20 }, (_, i) => room(`race-${i}`));
    for (const r of rooms) {
      await alice.call('chat.join', { room: r });
      await bob.call('chat.join', { room: r });
      await Promise.all([
        alice.call('chat.leave', { room: r }),
        bob.call('chat.leave', { room: r }),
      ]);
    }
    // Per room: room.occupied, presence.joined ×2, presence.left ×2, room.vacated; the outbox empty means every
    // recorded event was delivered, so a repeat, had one been recorded, would have arrived too.
    const ours = () => hooks.deliveries.filter((d) => rooms.includes(d.body.data?.room));
    await until(
      async () =>
        ours().length >= rooms.length * 6 &&
        (
          await pgQuery<{ n: number }>(
            databaseUrl,
            `SELECT count(*)::int AS n FROM "${schema}".webhook_outbox`,
          )
        )[0].n === 0,
      'every lifecycle event delivered',
      60_000,
    );
    // Once per cluster means one event (one id) per transition. Delivery is at least once (CONTRACT section 7: a
    // delivery whose answer was lost is sent again with the same id, which the receiver drops), so the ids count,
    // not the POSTs: two ids for one transition is the double that this test is about.
    const ids = new Map<string, Set<string>>();
    for (const { body } of ours()) {
      const k = `${body.type} ${body.data.room} ${body.data.userId ?? ''}`;
      ids.set(k, (ids.get(k) ?? new Set()).add(body.id));
    }
    expect([...ids].filter(([, id]) => id.size !== 1).map(([k, id]) => [k, [...id]])).toEqual([]);
    expect(ids.size).toBe(rooms.length * 6);
  }, 90_000);

  it('pushes chat messages, typing and read notices to members on other instances', async () => {
    const r = room('lobby');
    const alice = await connect(nodes[0], 'alice');
    const bob = await connect(nodes[1], 'bob');
    await alice.call('chat.join', { room: r });
    await bob.call('chat.join', { room: r });
    const sent = await alice.call('chat.send', { room: r, text: 'across' });
    expect((await bob.next('chat.message')).data).toEqual(sent.message);
    await alice.call('chat.typing', { room: r, typing: true });
    expect((await bob.next('chat.typing')).data).toEqual({
      room: r,
      userId: 'alice',
      typing: true,
    });
    await bob.call('chat.read', { room: r, seq: 1 });
    expect((await alice.next('chat.read')).data).toEqual({ room: r, userId: 'bob', seq: 1 });
  });

  it('gives concurrent writers on different instances unique, gapless seqs', async () => {
    const r = room('busy');
    const writers = await Promise.all(nodes.map((node, i) => connect(node, `writer${i}`)));
    await Promise.all(writers.map((w) => w.call('chat.join', { room: r })));
    const replies = await Promise.all(
      writers.flatMap((w, i) =>
        Array.from({ length: 30 }, (_, k) => w.call('chat.send', { room: r, text: `${i}-${k}` })),
      ),
    );
    const seqs = replies.map((reply) => reply.message.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
  });

  it('delivers dms and admin broadcasts to connections on every instance', async () => {
    const carol = await connect(nodes[2], 'carol');
    const dave = await connect(nodes[0], 'dave', { roles: ['admin'] });
    const sent = await dave.call('chat.dm', { to: 'carol', text: 'psst' });
    expect((await carol.next('chat.message')).data).toEqual(sent.message);
    await dave.call('broadcast', { data: { notice: run } });
    expect((await carol.next('broadcast')).data).toEqual({ data: { notice: run }, from: 'dave' });
  });

  it('counts one user connected to two instances as one member with two connections', async () => {
    const r = room('devices');
    const observer = await connect(nodes[2], 'observer');
    await observer.call('chat.join', { room: r });
    const phone = await connect(nodes[0], 'erin');
    const laptop = await connect(nodes[1], 'erin');
    await phone.call('chat.join', { room: r });
    const joined = await observer.next('presence.join');
    expect(joined.data.member).toMatchObject({ userId: 'erin', connections: 1 });
    const reply = await laptop.call('chat.join', { room: r });
    const erin = reply.members.find((m: { userId: string }) => m.userId === 'erin');
    expect(erin).toMatchObject({ userId: 'erin', connections: 2 });
    // The second device is no new member: no second presence.join. A ping answered first proves it.
    await observer.call('ping');
    expect(observer.frames.filter((f) => f.event === 'presence.join')).toHaveLength(1);
    const online = await observer.call('presence.query', { userIds: ['erin', `nobody-${run}`] });
    expect(online).toEqual({ online: { erin: true, [`nobody-${run}`]: false } });
    await phone.close();
    await laptop.close();
    expect((await observer.next('presence.leave')).data).toEqual({
      room: r,
      userId: 'erin',
      v: expect.any(Number),
    });
  });

  it('recovers channel publications from another instance than the one that took them', async () => {
    const channel = `feed-${run}`;
    const publisher = await connect(nodes[0], 'pub', { publish: ['feed-*'] });
    const first = await connect(nodes[1], 'reader');
    const sub = await first.call('channel.subscribe', { channel });
    await publisher.call('channel.publish', { channel, data: 1 });
    const live = await first.next('channel.message');
    await first.close();
    await publisher.call('channel.publish', { channel, data: 2 });
    await publisher.call('channel.publish', { channel, data: 3 });
    const again = await connect(nodes[2], 'reader');
    const recovered = await again.call('channel.subscribe', {
      channel,
      since: live.data.offset,
      epoch: sub.epoch,
    });
    expect(sub.offset).toBe(0);
    expect(recovered.epoch).toBe(sub.epoch);
    expect(recovered.recovered).toBe(true);
    expect(recovered.publications.map((p: { data: number }) => p.data)).toEqual([2, 3]);
  });

  it('counts connections cluster-wide for stats and MAX_CONNECTIONS_PER_USER', async () => {
    const user = `limited-${run}`;
    const token = signToken(user);
    await connect(nodes[0], user);
    await connect(nodes[1], user);
    await connect(nodes[2], user);
    await expect(TestClient.connect(nodes[0].wsUrl, token)).rejects.toThrow('HTTP 429');
    const stats = await clients[0].call('server.stats');
    expect(stats.connections).toBeGreaterThanOrEqual(3);
    const res = await api(nodes[2], 'GET', '/api/stats');
    expect((res.body as { connections: number }).connections).toBeGreaterThanOrEqual(3);
  });

  it('disconnects a user everywhere from the server API of any instance', async () => {
    const user = `kicked-${run}`;
    const a = await connect(nodes[0], user);
    const b = await connect(nodes[1], user);
    const bystander = await connect(nodes[1], 'bystander');
    const res = await api(nodes[2], 'POST', `/api/users/${user}/disconnect`);
    expect(res.status).toBe(202);
    expect(await a.waitClose()).toBe(4403);
    expect(await b.waitClose()).toBe(4403);
    expect((await bystander.request('ping')).event).toBe('pong');
  });

  it('pushes presence.leave elsewhere within 2 × heartbeat when an instance is killed', async () => {
    const r = room('doomed');
    const watcher = await connect(nodes[0], 'watcher');
    await watcher.call('chat.join', { room: r });
    const victim = await connect(nodes[2], `victim-${run}`);
    await victim.call('chat.join', { room: r });
    await watcher.next('presence.join');
    const killedAt = Date.now();
    nodes[2].kill('SIGKILL');
    const leave = await watcher.next('presence.leave', 2 * HEARTBEAT_MS + 1500);
    expect(leave.data).toEqual({ room: r, userId: `victim-${run}`, v: expect.any(Number) });
    expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 500);
    const list = await watcher.call('presence.list', { room: r });
    expect(list.members.map((m: { userId: string }) => m.userId)).toEqual(['watcher']);
  });
}
