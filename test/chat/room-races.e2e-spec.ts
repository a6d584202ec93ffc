/**
 * Races of a connection's room operations (issue 20, points 6 to 8), forced on purpose, in memory mode and in
 * cluster mode (Redis and PostgreSQL): a socket that closes while the access policy decides its join, a join
 * racing a leave, an `auth.refresh` dropping the right while a join is in flight. None may leave a ghost: a
 * member in presence, or a room held on the instance, that no open connection holds. And `presence.list` goes
 * through the access policy like every other room operation.
 */
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AccessPolicy } from '../../src/access/access-policy';
import { subscribeClaimDecision } from '../../src/access/claim-rules';
import { roomClaimDecision } from '../../src/rooms/room-access';
import type { Principal } from '../../src/auth/principal';
import { EventBus } from '../../src/events/event-bus';
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { until } from '../support/redis-processes';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import type { TestClient } from '../support/ws-client';
import { pgQuery } from '../support/pg-query';

const API_KEY = 'room-races-key-0123456789';
const api = serverApi(API_KEY);

/** An access proxy that holds every answer until the test releases it. */
class HeldBackend {
  url = '';
  private readonly held: ServerResponse[] = [];
  private arrivals: (() => void)[] = [];
  private readonly server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      this.held.push(res);
      for (const arrived of this.arrivals.splice(0)) arrived();
    });
  });

  static async start(): Promise<HeldBackend> {
    const backend = new HeldBackend();
    await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));
    backend.url = `http://127.0.0.1:${(backend.server.address() as AddressInfo).port}/access`;
    return backend;
  }

  /** Resolves once `n` requests are held. */
  async holding(n: number): Promise<void> {
    while (this.held.length < n) await new Promise<void>((r) => this.arrivals.push(r));
  }

  allowAll(): void {
    for (const res of this.held.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"allow":true}');
    }
  }

  stop(): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The value of one sample of the server's /metrics. */
async function metric(server: TestServer, sample: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
const JOINS_ANSWERED = 'hubbub_request_duration_seconds_count{event="chat.join"}';

/** The claims decide, but every answer waits until the test opens the gate (a slow team policy). */
@Injectable()
class GatedClaimPolicy extends AccessPolicy {
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;
  private askedWaiters: (() => void)[] = [];
  asked = 0;

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate();
  }

  async askedOnce(): Promise<void> {
    if (this.asked === 0) await new Promise<void>((r) => this.askedWaiters.push(r));
  }

  canJoin(principal: Principal, room: string): Promise<boolean> {
    // Decided on the claims the connection had when it asked; answered when the gate opens.
    return this.held(roomClaimDecision(principal, room) === 'granted');
  }

  canSubscribe(principal: Principal, channel: string): Promise<boolean> {
    return this.held(subscribeClaimDecision(principal, channel) === 'granted');
  }

  private async held(granted: boolean): Promise<boolean> {
    this.asked++;
    for (const w of this.askedWaiters.splice(0)) w();
    await this.gate;
    return granted;
  }

  canPublish(): boolean {
    return true;
  }
}

/** Lets everyone in everywhere, except non-`vip` users into `vip` rooms. */
@Injectable()
class VipRoomsPolicy extends AccessPolicy {
  canJoin(principal: Principal, room: string): boolean {
    return !room.startsWith('vip') || principal.userId.startsWith('vip');
  }

  canSubscribe(): boolean {
    return true;
  }

  canPublish(): boolean {
    return true;
  }
}

/** A full, synchronous garbage collection (V8's gc(), made available at run time). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Twice, with a turn between, so that what the first pass finalizes is gone before the second.
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
}

type Env = () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;

const memory: Env = () => Promise.resolve({ env: {}, cleanup: () => Promise.resolve() });

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const sql = async (text: string): Promise<void> => {
  await pgQuery(postgres.url, text);
};
/** Redis and PostgreSQL (a schema of this server's own), as a cluster instance runs. */
const cluster: Env = async () => {
  const schema = `hubbub_races_${randomBytes(4).toString('hex')}`;
  await sql(`CREATE SCHEMA "${schema}"`);
  const url = new URL(postgres.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    env: { REDIS_URL: redis.url, DATABASE_URL: url.toString(), NODE_ID: schema },
    cleanup: () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
  };
};

const isPresent = async (observer: TestClient, room: string, userId: string): Promise<boolean> => {
  const { members } = await observer.call('presence.list', { room });
  return (members as { userId: string }[]).some((m) => m.userId === userId);
};

function raceSuites(mode: string, backendEnv: Env): void {
  describe(`a socket closing while the access proxy decides its join (${mode})`, () => {
    let backend: HeldBackend;
    let server: TestServer;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      backend = await HeldBackend.start();
      const made = await backendEnv();
      cleanup = made.cleanup;
      server = await startServer({
        ...made.env,
        API_KEY,
        ACCESS_PROXY_URL: backend.url,
        ACCESS_PROXY_TIMEOUT_MS: '30000',
        RATE_LIMIT_PER_SEC: '1000',
        RATE_LIMIT_BURST: '1000',
      });
    }, 30_000);
    afterAll(async () => {
      await server?.close();
      await backend?.stop();
      await cleanup?.();
    });
    const { connect } = trackedClients(() => server);

    it('is not added to the room after its cleanup ran: no member, no room held', async () => {
      const SOCKETS = 20;
      const room = `private:r-${rid()}`;
      const answeredBefore = await metric(server, JOINS_ANSWERED);
      const users = Array.from({ length: SOCKETS }, () => `u-${rid()}`);
      const clients = await Promise.all(users.map((u) => connect(u)));
      for (const c of clients) c.send({ event: 'chat.join', data: { room }, id: 1 });
      await backend.holding(SOCKETS);

      // Every socket closes, and the server's cleanup of each has run (this listener comes after Hubbub's).
      const cleaned = new Set<string>();
      let allCleaned!: () => void;
      const done = new Promise<void>((resolve) => (allCleaned = resolve));
      const refs: WeakRef<object>[] = [];
      const last = Number.MAX_SAFE_INTEGER; // the highest priority: after every listener of Hubbub's
      server.app.get(EventBus).on(
        'connection.closed',
        ({ conn }) => {
          if (!users.includes(conn.userId)) return;
          refs.push(new WeakRef(conn));
          cleaned.add(conn.userId);
          if (cleaned.size === SOCKETS) allCleaned();
        },
        last,
      );
      await Promise.all(clients.map((c) => c.close()));
      await done;

      // Now the proxy allows, and every join runs to its end.
      backend.allowAll();
      await until(
        async () => (await metric(server, JOINS_ANSWERED)) >= answeredBefore + SOCKETS,
        'every held join answered',
      );
      expect(await metric(server, 'hubbub_rooms')).toBe(0);
      const rooms = await api(server, 'GET', '/api/rooms');
      expect(rooms.body.rooms).toEqual([]);
      const observer = await connect(`o-${rid()}`, { rooms: ['private:*'] });
      expect((await observer.call('presence.list', { room })).members).toEqual([]);
      expect((await observer.call('server.stats')).connections).toBe(1);
      // Nothing holds the closed connections any more: a full collection frees every one.
      await collectGarbage();
      expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    });
  });

  describe(`a join racing a leave or an auth.refresh (${mode})`, () => {
    let server: TestServer;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const made = await backendEnv();
      cleanup = made.cleanup;
      server = await startServer({
        ...made.env,
        API_KEY,
        MAX_SUBSCRIPTIONS: '200',
        RATE_LIMIT_PER_SEC: '1000',
        RATE_LIMIT_BURST: '1000',
      });
    }, 30_000);
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });
    const { connect } = trackedClients(() => server);

    it('join then leave sent together, 48 times: the user ends in none of the rooms', async () => {
      const user = `u-${rid()}`;
      const c = await connect(user);
      const rooms = Array.from({ length: 48 }, () => `race-${rid()}`);
      const replies = rooms.flatMap((room) => [
        c.request('chat.join', { room }),
        c.request('chat.leave', { room }),
      ]);
      for (const reply of await Promise.all(replies)) expect(reply.event).not.toBe('error');
      const observer = await connect(`o-${rid()}`);
      const ghosts = [];
      for (const room of rooms) if (await isPresent(observer, room, user)) ghosts.push(room);
      expect(ghosts).toEqual([]);
      for (const room of rooms.slice(0, 3)) {
        expect((await c.request('chat.send', { room, text: 'x' })).data.code).toBe('not_joined');
      }
    });

    it('join, leave, join sent together: the user ends in every room, once', async () => {
      const user = `u-${rid()}`;
      const c = await connect(user);
      const rooms = Array.from({ length: 24 }, () => `race-${rid()}`);
      const replies = rooms.flatMap((room) => [
        c.request('chat.join', { room }),
        c.request('chat.leave', { room }),
        c.request('chat.join', { room }),
      ]);
      for (const reply of await Promise.all(replies)) expect(reply.event).not.toBe('error');
      const observer = await connect(`o-${rid()}`);
      for (const room of rooms) {
        const { members } = await observer.call('presence.list', { room });
        expect(members).toEqual([expect.objectContaining({ userId: user, connections: 1 })]);
      }
    });

    it('auth.refresh dropping the rooms claim sent with the join, 36 times: no ghost in the private rooms', async () => {
      const observer = await connect(`o-${rid()}`, { rooms: ['private:*'] });
      const ghosts: string[] = [];
      for (let i = 0; i < 36; i++) {
        const user = `u-${rid()}`;
        const room = `private:race-${rid()}`;
        const c = await connect(user, { rooms: ['private:*'] });
        const dropped = await server.token(user);
        const [join, refresh] = await Promise.all([
          c.request('chat.join', { room }),
          c.request('auth.refresh', { token: dropped }),
        ]);
        expect(refresh.event).toBe('auth.refresh');
        // Whichever came first, the user holds nothing the new claims do not grant.
        if (await isPresent(observer, room, user)) ghosts.push(room);
        const send = await c.request('chat.send', { room, text: 'x' });
        expect(send.data.code).toBe('not_joined');
        expect(['chat.join', 'error']).toContain(join.event);
      }
      expect(ghosts).toEqual([]);
    });
  });

  describe(`a team policy deciding slowly while auth.refresh drops the right (${mode})`, () => {
    let server: TestServer;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const made = await backendEnv();
      cleanup = made.cleanup;
      server = await startServer(
        { ...made.env },
        { providers: [{ provide: AccessPolicy, useClass: GatedClaimPolicy }] },
      );
    }, 30_000);
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });
    const { connect } = trackedClients(() => server);

    it('asks again with the new claims: the join is refused and leaves no ghost', async () => {
      const policy = server.app.get<AccessPolicy, GatedClaimPolicy>(AccessPolicy);
      const observer = await connect(`o-${rid()}`, { rooms: ['private:*'] });
      const user = `u-${rid()}`;
      const room = `private:gated-${rid()}`;
      const c = await connect(user, { rooms: ['private:*'] });
      policy.close();
      policy.asked = 0;
      const join = c.request('chat.join', { room });
      await policy.askedOnce();
      // The refresh is answered while the old claims' decision is still held.
      await c.call('auth.refresh', { token: await server.token(user) });
      policy.open();
      const reply = await join;
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('forbidden');
      expect(await isPresent(observer, room, user)).toBe(false);
      expect((await c.request('chat.send', { room, text: 'x' })).data.code).toBe('not_joined');
    });

    it('a subscribe decided on the old claims is asked again too: refused, no subscription left', async () => {
      const policy = server.app.get<AccessPolicy, GatedClaimPolicy>(AccessPolicy);
      const user = `u-${rid()}`;
      const channel = `private:gated-${rid()}`;
      const c = await connect(user, { subscribe: ['private:*'] });
      policy.close();
      policy.asked = 0;
      const subscribe = c.request('channel.subscribe', { channel });
      await policy.askedOnce();
      await c.call('auth.refresh', { token: await server.token(user) });
      policy.open();
      const reply = await subscribe;
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('forbidden');
      // Not subscribed: unsubscribing finds nothing to push about, and a publication does not arrive.
      const mark = c.frames.length;
      const p = await connect(`p-${rid()}`, { roles: ['admin'] });
      await p.call('channel.publish', { channel, data: 'secret' });
      await expectNoPush(c, mark, 'channel.message');
    });
  });
}

raceSuites('memory', memory);
(redis.available ? postgres : redis).describe('cluster mode', () => {
  raceSuites('Redis and PostgreSQL', cluster);
});

describe('presence.list through the access policy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(
      {},
      { providers: [{ provide: AccessPolicy, useClass: VipRoomsPolicy }] },
    );
  });
  afterAll(() => server.close());
  const { connect } = trackedClients(() => server);

  it('is refused where the team policy refuses the room, like chat.join and chat.history', async () => {
    const id = rid();
    const room = `vip.lounge-${id}`;
    const vip = await connect(`vip-${id}`);
    const pleb = await connect(`pleb-${id}`);
    await vip.call('chat.join', { room });
    for (const event of ['chat.join', 'chat.history', 'presence.list']) {
      const reply = await pleb.request(event, { room });
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('forbidden');
    }
    expect((await vip.call('presence.list', { room })).members).toEqual([
      expect.objectContaining({ userId: `vip-${id}` }),
    ]);
  });

  it('a dm: room stays its two users own whatever the policy says', async () => {
    const c = await connect(`c-${rid()}`);
    for (const event of ['chat.join', 'chat.history', 'presence.list']) {
      const reply = await c.request(event, { room: 'dm:alice:bob' });
      expect(reply.data.code).toBe('forbidden');
    }
  });
});
