import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import {
  buildServerOnce,
  freePort,
  removeBuild,
  spawnServer,
  type ChildEnv,
  type ChildServer,
} from '../support/child-server';
import { rid } from '../support/fixtures';
import { redisBinaryGate, startRedisProcess, stopProcess, until } from '../support/redis-processes';
import { servicesGate } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';
import { signToken } from '../support/tokens';
import { TestClient, type Frame } from '../support/ws-client';
import { pgQuery } from '../support/pg-query';

/**
 * Presence through faults (contract sections 5 and 6, fault-correctness): lifecycle webhooks alternate per (room,
 * user) and the last push agrees with presence.list, across a restart under the same NODE_ID, a resync race after
 * a Redis outage and a reconnect whose old leave is decided before the new join but announced after it. The
 * cluster runs on a redis-server of the test's own; TCP proxies cut one instance off Redis or hold its PostgreSQL.
 */
const postgres = servicesGate('postgres');
const gate = redisBinaryGate(postgres, 'the presence fault tests');
const run = rid();

/** join, leave, join, leave, …: never two of a kind in a row, starting with a join. */
const alternates = (events: string[]): boolean =>
  events.every((e, i) => e === (i % 2 === 0 ? 'presence.join' : 'presence.leave'));

interface Hook {
  id: string;
  type: string;
  data: { room: string; userId?: string };
}

gate.describe('presence through faults', () => {
  const schema = `hubbub_pfault_${randomBytes(4).toString('hex')}`;
  const hooks: Hook[] = [];
  const clients: TestClient[] = [];
  const proxies: TcpProxy[] = [];
  let nodes: ChildServer[] = [];
  let redisPort: number;
  let redisProc: ChildProcess;
  let receiver: Server;
  let base: ChildEnv;

  const sql = (text: string) => pgQuery(postgres.url, text);
  /** Every lifecycle event recorded so far was delivered: a repeat, had one been recorded, would have come too. */
  const drained = () =>
    until(
      async () =>
        (
          (await sql(`SELECT count(*)::int AS n FROM "${schema}".webhook_outbox`)) as {
            n: number;
          }[]
        )[0].n === 0,
      'the webhook outbox drained',
    );

  beforeAll(async () => {
    redisPort = await freePort();
    redisProc = await startRedisProcess(['--port', String(redisPort), '--bind', '127.0.0.1']);
    await sql(`CREATE SCHEMA "${schema}"`);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Hook);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const db = new URL(postgres.url);
    db.searchParams.set('options', `-c search_path=${schema}`);
    base = {
      DATABASE_URL: db.toString(),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      API_KEY: 'presence-faults-key',
      RATE_LIMIT_PER_SEC: '1000',
      RATE_LIMIT_BURST: '1000',
      LOG_LEVEL: 'info',
    };
    await buildServerOnce();
  }, 60_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const node of nodes) node.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.waitForExit(10_000).catch(() => undefined)));
    nodes = [];
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  }, 30_000);

  afterAll(async () => {
    await stopProcess(redisProc);
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    removeBuild();
  }, 30_000);

  const proxy = async (port: number) => {
    const p = await TcpProxy.start(port);
    proxies.push(p);
    return p;
  };
  const node = (name: string, env: ChildEnv = {}) =>
    spawnServer({ ...base, NODE_ID: `pf-${name}-${run}`, ...env });
  const connect = async (at: ChildServer, user: string) => {
    const c = await TestClient.connect(at.wsUrl, signToken(user));
    clients.push(c);
    return c;
  };
  const readiness = (at: ChildServer, status: number) =>
    until(async () => (await fetch(`${at.url}/health/ready`)).status === status, `ready ${status}`);
  /** The presence pushes about `user` in `room` that `observer` got, from frame `from` on. */
  const pushesOf = (observer: TestClient, room: string, user: string, from = 0): Frame[] =>
    observer.frames
      .slice(from)
      .filter(
        (f) =>
          f.id === undefined &&
          f.event.startsWith('presence.') &&
          f.data.room === room &&
          (f.data.userId ?? f.data.member?.userId) === user,
      );
  /**
   * The events received, each once: delivery is at least once, and a kill -9 between the receiver's 2xx and the
   * outbox's delete sends an event again with its id, which receivers drop (so do these tests).
   */
  const received = (): Hook[] => [...new Map(hooks.map((h) => [h.id, h])).values()];
  /** A user's presence webhooks in a room, named like the pushes (`presence.join`, `presence.leave`). */
  const hookSequence = (room: string, user: string): string[] =>
    received()
      .filter(
        (h) => h.type.startsWith('presence.') && h.data.room === room && h.data.userId === user,
      )
      .map((h) => (h.type === 'presence.joined' ? 'presence.join' : 'presence.leave'));
  const hookCount = (type: string, room: string, user?: string) =>
    received().filter((h) => h.type === type && h.data.room === room && h.data.userId === user)
      .length;
  const isMember = async (client: TestClient, room: string, user: string) =>
    (await client.call('presence.list', { room })).members.some(
      (m: { userId: string }) => m.userId === user,
    );

  it('a restart under the same NODE_ID after a reap announces nothing twice (20.1)', async () => {
    const room = `restart-${run}`;
    const [alice, bob] = [`alice-${run}`, `bob-${run}`];
    const beat = { HEARTBEAT_INTERVAL_MS: '2000' };
    nodes = [await node('a', beat), await node('b', beat)];
    const a = await connect(nodes[0], alice);
    await a.call('chat.join', { room });
    const b1 = await connect(nodes[1], bob);
    await b1.call('chat.join', { room });
    await a.next('presence.join', 30_000, (f) => f.data.member.userId === bob);

    nodes[1].kill('SIGKILL'); // a reaps b: bob's leave is announced, and b's tombstone written
    await a.next('presence.leave', 30_000, (f) => f.data.userId === bob);
    await nodes[1].waitForExit();
    nodes[1] = await node('b', beat);
    await readiness(nodes[1], 200);
    const mark = a.frames.length;
    const b2 = await connect(nodes[1], bob);
    await b2.call('chat.join', { room });
    await a.next('presence.join', 30_000, (f) => f.data.member.userId === bob);

    // Both instances lose Redis for a moment and write their state back: b must not take itself for reaped.
    const rewritten = () => nodes[1].stdout.filter((l) => l.includes('state rewritten')).length;
    const before = rewritten();
    const admin = new Redis(redisPort, '127.0.0.1');
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    admin.disconnect();
    await until(async () => Promise.resolve(rewritten() > before), 'b rewrote its state');
    await Promise.all(nodes.map((n) => readiness(n, 200)));

    // A later event: bob leaves. Between the rejoin and it, no second join of bob reached alice (on a machine so
    // busy that an instance misses its liveness TTL, a reap and its rewrite add a leave and a join: still alternating).
    await b2.call('chat.leave', { room });
    await a.next('presence.leave', 30_000, (f) => f.data.userId === bob);
    expect(alternates(pushesOf(a, room, bob, mark).map((f) => f.event))).toBe(true);
    await a.call('chat.leave', { room });
    await until(async () => Promise.resolve(hookCount('room.vacated', room) >= 1), 'vacated');
    await drained();
    // Bob's webhooks alternate and end with his leave. (The reap's leave and the restarted b's join may fall inside
    // the outbox's coalescing window, which then sends neither: issue 19's flap coalescing.)
    expect(alternates(hookSequence(room, bob))).toBe(true);
    expect(hookSequence(room, bob).at(-1)).toBe('presence.leave');
    expect(hookCount('room.vacated', room)).toBe(hookCount('room.occupied', room));
  }, 90_000);

  describe('three instances, b and c cut off Redis or PostgreSQL by proxies', () => {
    // A liveness TTL longer than any cut here: nobody is reaped, so the resyncs alone decide.
    const beat = { HEARTBEAT_INTERVAL_MS: '20000' };
    let redisA: TcpProxy;
    let redisB: TcpProxy;
    let pgA: TcpProxy;

    beforeEach(async () => {
      redisA = await proxy(redisPort);
      redisB = await proxy(redisPort);
      pgA = await proxy(Number(new URL(postgres.url).port || 5432));
      const db = new URL(base.DATABASE_URL!);
      db.port = String(pgA.port);
      // NODE_IDs of each test's own: no tombstone or record of another test's instances applies to them.
      const tag = rid();
      nodes = await Promise.all([
        node(`a-${tag}`, {
          ...beat,
          REDIS_URL: `redis://127.0.0.1:${redisA.port}`,
          DATABASE_URL: db.toString(),
        }),
        node(`b-${tag}`, { ...beat, REDIS_URL: `redis://127.0.0.1:${redisB.port}` }),
        node(`c-${tag}`, beat),
      ]);
      await Promise.all(nodes.map((n) => readiness(n, 200)));
    }, 60_000);

    it('a user who moved instances during an outage ends present, and the last push says so (20.3)', async () => {
      const room = `moved-${run}`;
      const user = `mover-${run}`;
      const observer = await connect(nodes[2], `observer-${run}`);
      await observer.call('chat.join', { room });
      const old = await connect(nodes[0], user);
      await old.call('chat.join', { room });
      await observer.next('presence.join', 30_000, (f) => f.data.member.userId === user);
      const mark = observer.frames.length;

      redisA.cut();
      redisB.cut();
      await Promise.all([readiness(nodes[0], 503), readiness(nodes[1], 503)]);
      await old.close(); // a cannot record it
      const fresh = await connect(nodes[1], user);
      await fresh.call('chat.join', { room }); // b cannot record it

      // a writes its state back first: the user is in nobody's records, so a announces the leave.
      redisA.restore();
      await observer.next('presence.leave', 30_000, (f) => f.data.userId === user);
      await readiness(nodes[0], 200);
      // Then b: its write makes the user present again, which must be announced.
      redisB.restore();
      await readiness(nodes[1], 200);
      expect(await isMember(observer, room, user)).toBe(true);

      // A later event: the user leaves. Every push in v order, the last one before it a join.
      await fresh.call('chat.leave', { room });
      await observer.next('presence.leave', 30_000, (f) => f.data.userId === user);
      const pushes = pushesOf(observer, room, user, mark);
      expect(pushes.map((f) => f.event)).toEqual([
        'presence.leave',
        'presence.join',
        'presence.leave',
      ]);
      const vs = pushes.map((f) => (f.data.v ?? f.data.member?.v) as number);
      expect(vs).toEqual([...vs].sort((x, y) => x - y));
      await observer.call('chat.leave', { room });
      await until(async () => Promise.resolve(hookCount('room.vacated', room) >= 1), 'vacated');
      await drained();
      // The webhooks alternate too, and end with the leave. (The leave and rejoin of the resyncs may come within the
      // outbox's coalescing window, which then sends neither: issue 19's flap coalescing.)
      expect(alternates(hookSequence(room, user))).toBe(true);
      expect(hookSequence(room, user).at(-1)).toBe('presence.leave');
    }, 90_000);

    it('a join the store could not record (Redis cut off) is announced once it is written back', async () => {
      const room = `unrecorded-${run}`;
      const user = `latecomer-${run}`;
      const observer = await connect(nodes[2], `witness-${run}`);
      await observer.call('chat.join', { room });
      redisB.cut();
      await readiness(nodes[1], 503);
      const late = await connect(nodes[1], user);
      await late.call('chat.join', { room }); // b cannot record it
      redisB.restore();
      await observer.next('presence.join', 30_000, (f) => f.data.member.userId === user);
      await readiness(nodes[1], 200);

      await late.call('chat.leave', { room }); // a later event
      await observer.next('presence.leave', 30_000, (f) => f.data.userId === user);
      expect(alternates(pushesOf(observer, room, user).map((f) => f.event))).toBe(true);
      await observer.call('chat.leave', { room });
      await until(async () => Promise.resolve(hookCount('room.vacated', room) >= 1), 'vacated');
      await drained();
      expect(hookCount('presence.joined', room, user)).toBe(1);
      expect(hookCount('presence.left', room, user)).toBe(1);
    }, 60_000);

    it('a reconnect whose old leave is announced after the new join leaves the user present (20.4)', async () => {
      const room = `reconnect-${run}`;
      const user = `phoenix-${run}`;
      const observer = await connect(nodes[2], `watcher-${run}`);
      await observer.call('chat.join', { room });
      const bystander = await connect(nodes[0], `bystander-${run}`);
      await bystander.call('chat.join', { room });
      const old = await connect(nodes[0], user);
      await old.call('chat.join', { room });
      await observer.next('presence.join', 30_000, (f) => f.data.member.userId === user);
      const mark = observer.frames.length;

      // a decides the old socket's leave at once (Redis) but cannot write its webhook yet (PostgreSQL held).
      pgA.hold();
      await old.close();
      const fresh = await connect(nodes[1], user);
      await fresh.call('chat.join', { room });
      await observer.next('presence.join', 30_000, (f) => f.data.member.userId === user);
      pgA.restore();

      // The old leave is announced now (its webhook proves it); a later push from a comes after its push.
      await until(
        async () => Promise.resolve(hookCount('presence.left', room, user) === 1),
        'the old leave announced',
      );
      const sent = await bystander.call('chat.send', { room, text: 'later' });
      await observer.next('chat.message', 30_000, (f) => f.data.id === sent.message.id);

      const pushes = pushesOf(observer, room, user, mark);
      expect(pushes.map((f) => f.event)).toEqual(['presence.join']);
      const vs = pushesOf(observer, room, user).map(
        (f) => (f.data.v ?? f.data.member?.v) as number,
      );
      expect(vs.every((v, i) => i === 0 || v > vs[i - 1])).toBe(true);
      expect(await isMember(observer, room, user)).toBe(true);
    }, 90_000);
  });
});
