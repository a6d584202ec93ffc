import { removeBuild, spawnServer, type ChildServer } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { TestClient } from '../support/ws-client';
import { API_KEY, api, forbidden, refused, setRole, uid } from './moderation-support';

/**
 * Moderation across two server processes sharing Redis and PostgreSQL: a ban, a mute or slow mode decided on one
 * instance holds on the other at once (the cluster command drops the cached rules, and a ban takes the user's
 * connections there out of the room within 1 s), and all of it survives a restart.
 */
const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;
const run = uid('run');

gate.describe('moderation across two instances', () => {
  let nodes: ChildServer[] = [];
  const clients: TestClient[] = [];
  const envOf = (name: string) => ({
    REDIS_URL: redis.url,
    DATABASE_URL: postgres.url,
    NODE_ID: `${name}-${run}`,
    API_KEY,
    RATE_LIMIT_PER_SEC: '10000',
    RATE_LIMIT_BURST: '10000',
    LOG_LEVEL: 'warn',
  });

  const connect = async (node: ChildServer, sub: string, claims: Record<string, unknown> = {}) => {
    const client = await TestClient.connect(node.wsUrl, signToken(sub, claims));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    nodes = await spawnCluster(['a', 'b'], envOf);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await stopCluster(nodes);
    removeBuild();
  }, 30_000);

  it('a ban on A takes the user out of the room on B within 1 s, and B refuses their join', async () => {
    const [a, b] = nodes;
    const room = uid('ban');
    const [mod, bob] = [uid('mod'), uid('bob')];
    await setRole(a, room, mod, 'moderator');
    const m = await connect(a, mod);
    const onB = await connect(b, bob);
    const onA = await connect(a, bob);
    await onB.call('chat.join', { room });
    await onA.call('chat.join', { room });
    // B has read (and cached) bob's standing: the ban must reach its cache too.
    await onB.call('chat.send', { room, text: 'before' });
    const started = Date.now();
    await m.call('room.ban', { room, userId: bob, reason: 'spam' });
    const left = await onB.next('chat.left', 5000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(left.data).toEqual({ room, reason: 'banned' });
    expect((await onA.next('chat.left')).data).toEqual({ room, reason: 'banned' });
    expect((await refused(onB, 'chat.join', { room })).data).toEqual(forbidden('banned'));
    expect(onB.closeCode).toBeUndefined();
    // Unbanned over the server API of B: A lets the user in at once.
    expect((await api(b, 'DELETE', `/api/rooms/${room}/bans/${bob}`)).status).toBe(204);
    await onA.call('chat.join', { room });
  });

  it('a mute and slow mode set on A hold on B at once', async () => {
    const [a, b] = nodes;
    const room = uid('mute');
    const [owner, bob] = [uid('owner'), uid('bob')];
    await setRole(a, room, owner, 'owner');
    const o = await connect(a, owner);
    const onB = await connect(b, bob);
    await onB.call('chat.join', { room });
    await onB.call('chat.send', { room, text: 'cached' });
    await o.call('room.mute', { room, userId: bob });
    expect((await refused(onB, 'chat.send', { room, text: 'x' })).data).toEqual(forbidden('muted'));
    await o.call('room.unmute', { room, userId: bob });
    await o.call('room.settings', { room, slowModeMs: 60_000 });
    const onA = await connect(a, bob);
    await onA.call('chat.join', { room });
    await onB.call('chat.send', { room, text: 'one' });
    // The slot is shared by the cluster: the same user on A is held back too.
    const limited = await refused(onA, 'chat.send', { room, text: 'two' });
    expect(limited.data.code).toBe('rate_limited');
    expect(limited.data.details.retryAfterMs).toBeGreaterThan(0);
  });

  it('bans, mutes, roles and settings survive a restart of the instances', async () => {
    const room = uid('restart');
    const [owner, bob, carol] = [uid('owner'), uid('bob'), uid('carol')];
    await setRole(nodes[0], room, owner, 'owner');
    const o = await connect(nodes[0], owner);
    await o.call('room.ban', { room, userId: bob });
    await o.call('room.mute', { room, userId: carol });
    await o.call('room.settings', { room, retentionDays: 7 });
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stopCluster([nodes[1]]);
    nodes[1] = await spawnServer(envOf('b'));
    const onB = await connect(nodes[1], bob);
    expect((await refused(onB, 'chat.join', { room })).data).toEqual(forbidden('banned'));
    const c = await connect(nodes[1], carol);
    await c.call('chat.join', { room });
    expect((await refused(c, 'chat.send', { room, text: 'x' })).data).toEqual(forbidden('muted'));
    expect(await c.call('room.info', { room })).toEqual({
      room,
      owners: [owner],
      moderators: [],
      settings: { retentionDays: 7 },
      firstSeq: 1,
    });
  }, 120_000);
});
