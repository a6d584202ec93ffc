/**
 * The server API routes behind the admin dashboard (CONTRACT section 7, "dashboard-polish"): GET /api/nodes,
 * GET /api/rooms with prefix / limit / cursor paging, and the dashboard's own GET /api/users/:userId and
 * GET /api/stats/history; on one instance and across two instances sharing Redis.
 */
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi, type JsonResponse } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';

const API_KEY = 'dashboard-api-test-key-0123456789';
const api = serverApi(API_KEY);

const ROUTES = ['/api/nodes', '/api/rooms', '/api/users/someone', '/api/stats/history'];

/** Every string of a Nest 400 body's `message` list. */
const messagesOf = (body: { message?: unknown }): string[] =>
  Array.isArray(body.message) ? (body.message as string[]) : [String(body.message)];

/** Asks again until `done` holds for the answer: another instance's figures arrive with its next refresh. */
async function until(
  ask: () => Promise<JsonResponse>,
  done: (res: JsonResponse) => boolean,
  timeoutMs = 10_000,
): Promise<JsonResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await ask();
    if (done(res)) return res;
    if (Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard API, one instance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ API_KEY, NODE_ID: `dash-${rid()}` });
  });
  afterAll(async () => {
    await server?.close();
  });
  const { connect } = trackedClients(() => server);

  it.each(ROUTES)('GET %s answers 401 without the key or with a wrong one', async (path) => {
    expect((await api(server, 'GET', path, undefined, null)).status).toBe(401);
    expect((await api(server, 'GET', path, undefined, 'wrong')).status).toBe(401);
  });

  it('GET /api/nodes answers this instance with its live connection count', async () => {
    const before = await api(server, 'GET', '/api/nodes');
    expect(before).toEqual({
      status: 200,
      body: {
        nodes: [
          {
            node: server.config.nodeId,
            connections: 0,
            uptimeSec: expect.any(Number),
            version: expect.stringMatching(/^\d+\.\d+\.\d+/),
            ready: true,
          },
        ],
      },
    });
    await connect(`alice-${rid()}`);
    await connect(`bob-${rid()}`);
    const after = await api(server, 'GET', '/api/nodes');
    expect(after.body.nodes[0].connections).toBe(2);
  });

  it('GET /api/rooms lists the rooms with someone in them and their member counts, by name', async () => {
    const p = `dr${rid()}-`;
    const aliceId = `alice-${rid()}`;
    const alice = await connect(aliceId);
    const alice2 = await connect(aliceId);
    const bob = await connect(`bob-${rid()}`);
    await alice.call('chat.join', { room: `${p}b` });
    await alice2.call('chat.join', { room: `${p}b` });
    await bob.call('chat.join', { room: `${p}b` });
    await bob.call('chat.join', { room: `${p}a` });
    await bob.call('chat.join', { room: `${p}c` });
    await bob.call('chat.leave', { room: `${p}c` });
    const res = await api(server, 'GET', `/api/rooms?prefix=${p}`);
    expect(res).toEqual({
      status: 200,
      body: {
        rooms: [
          { room: `${p}a`, members: 1 },
          { room: `${p}b`, members: 2 },
        ],
      },
    });
  });

  it('GET /api/rooms pages with limit and the cursor it answers in next', async () => {
    const p = `pg${rid()}-`;
    const c = await connect(`carol-${rid()}`);
    const names = ['e', 'a', 'd', 'b', 'c'].map((n) => `${p}${n}`);
    for (const room of names) await c.call('chat.join', { room });
    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: number[] = [];
    do {
      const query = `prefix=${p}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api(server, 'GET', `/api/rooms?${query}`);
      expect(res.status).toBe(200);
      pages.push(res.body.rooms.length);
      seen.push(...(res.body.rooms as { room: string }[]).map((r) => r.room));
      cursor = res.body.next as string | undefined;
    } while (cursor);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual([...names].sort());
  });

  it('GET /api/rooms without a prefix includes every occupied room, and no next on the last page', async () => {
    const room = `all-${rid()}`;
    const c = await connect(`dave-${rid()}`);
    await c.call('chat.join', { room });
    const res = await api(server, 'GET', '/api/rooms?limit=1000');
    expect(res.body.rooms).toContainEqual({ room, members: 1 });
    expect(res.body.next).toBeUndefined();
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['prefix=has%20space', 'prefix'],
    ['cursor=%2A', 'cursor'],
  ])('GET /api/rooms?%s answers 400 naming the field', async (query, field) => {
    const res = await api(server, 'GET', `/api/rooms?${query}`);
    expect(res.status).toBe(400);
    expect(messagesOf(res.body).some((m) => m.includes(field))).toBe(true);
  });

  it('GET /api/users/:userId says whether the user is online and with how many connections', async () => {
    const user = `erin-${rid()}`;
    expect((await api(server, 'GET', `/api/users/${user}`)).body).toEqual({
      userId: user,
      online: false,
      connections: 0,
    });
    await connect(user);
    const second = await connect(user);
    expect((await api(server, 'GET', `/api/users/${user}`)).body).toEqual({
      userId: user,
      online: true,
      connections: 2,
    });
    await second.close();
    expect((await api(server, 'GET', `/api/users/${user}`)).body.connections).toBe(1);
  });

  it('GET /api/stats/history answers 5 s buckets of connections and message rates', async () => {
    const res = await api(server, 'GET', '/api/stats/history');
    expect(res.status).toBe(200);
    expect(res.body.intervalSec).toBe(5);
    expect(res.body.samples.length).toBeGreaterThanOrEqual(1);
    expect(res.body.samples[0]).toEqual({
      ts: expect.any(Number),
      connections: expect.any(Number),
      inPerSec: expect.any(Number),
      outPerSec: expect.any(Number),
    });
    expect(res.body.samples[0].ts % 5000).toBe(0);
  });
});

describe('dashboard API without API_KEY', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(ROUTES)('GET %s answers 404, with or without a key', async (path) => {
    expect((await api(server, 'GET', path, undefined, null)).status).toBe(404);
    expect((await api(server, 'GET', path, undefined, 'anything')).status).toBe(404);
  });
});

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
// Whichever service is missing decides: its gate skips the block, or fails it under REQUIRE_SERVICES=1.
const clusterGate = redis.available ? postgres : redis;

clusterGate.describe('dashboard API, two instances sharing Redis', () => {
  const run = rid();
  let servers: TestServer[] = [];
  const nodeIds = [`dash-a-${run}`, `dash-b-${run}`];
  beforeAll(async () => {
    servers = await Promise.all(
      nodeIds.map((NODE_ID) =>
        startServer({
          API_KEY,
          NODE_ID,
          REDIS_URL: redis.url,
          DATABASE_URL: postgres.url,
          HEARTBEAT_INTERVAL_MS: '1000',
        }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const { connect } = trackedClients(() => servers[0]);

  /** The two instances of this block in an answer (other spec files may run clusters on the same Redis). */
  const ours = (res: JsonResponse): { node: string; connections: number }[] =>
    ((res.body?.nodes ?? []) as { node: string; connections: number }[]).filter((n) =>
      nodeIds.includes(n.node),
    );

  it('GET /api/nodes on either instance lists both, with their own connection counts', async () => {
    await connect(`alice-${run}`, {}, servers[1]);
    await connect(`bob-${run}`, {}, servers[1]);
    await connect(`carol-${run}`, {}, servers[0]);
    for (const target of servers) {
      const res = await until(
        () => api(target, 'GET', '/api/nodes'),
        (r) =>
          ours(r)
            .map((n) => n.connections)
            .join() === '1,2',
      );
      expect(res.status).toBe(200);
      expect(ours(res)).toEqual([
        {
          node: nodeIds[0],
          connections: 1,
          uptimeSec: expect.any(Number),
          version: expect.any(String),
          ready: true,
        },
        {
          node: nodeIds[1],
          connections: 2,
          uptimeSec: expect.any(Number),
          version: expect.any(String),
          ready: true,
        },
      ]);
    }
  });

  it('GET /api/rooms counts members of both instances, and pages across them', async () => {
    const p = `cl${run}-`;
    const a = await connect(`alice-${run}`, {}, servers[0]);
    const b = await connect(`bob-${run}`, {}, servers[1]);
    await a.call('chat.join', { room: `${p}x` });
    await b.call('chat.join', { room: `${p}x` });
    await b.call('chat.join', { room: `${p}y` });
    const first = await api(servers[0], 'GET', `/api/rooms?prefix=${p}&limit=1`);
    expect(first.body).toEqual({ rooms: [{ room: `${p}x`, members: 2 }], next: `${p}x` });
    const second = await api(servers[1], 'GET', `/api/rooms?prefix=${p}&limit=1&cursor=${p}x`);
    expect(second.body).toEqual({ rooms: [{ room: `${p}y`, members: 1 }] });
  });

  it('GET /api/users/:userId counts the connections on every instance', async () => {
    const user = `dora-${run}`;
    await connect(user, {}, servers[0]);
    await connect(user, {}, servers[1]);
    expect((await api(servers[1], 'GET', `/api/users/${user}`)).body).toEqual({
      userId: user,
      online: true,
      connections: 2,
    });
  });
});
