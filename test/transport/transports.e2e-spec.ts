/**
 * The protocol suite (chat, channels, presence, errors, the server API's disconnect) over each client transport of
 * contract section 10: `websocket`, `sse` and `stream`. On one instance (SQLite, in-process fan-out), and on two
 * instances sharing Redis and PostgreSQL where every stream client streams from instance A and posts every frame
 * to instance B (no sticky session), its peers on B.
 */
import { randomBytes } from 'node:crypto';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { pgQuery } from '../support/pg-query';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import {
  connectOver,
  postSend,
  StreamTestClient,
  TRANSPORTS,
  type ProtocolClient,
  type TransportName,
} from '../support/stream-client';

const API_KEY = 'transports-key-0123456789abcdef';
const api = serverApi(API_KEY);
const COMMON_ENV = { API_KEY, RATE_LIMIT_PER_SEC: '200', RATE_LIMIT_BURST: '200' };

interface Setup {
  /** Where clients stream from. */
  a: TestServer;
  /** Where stream clients post their frames, and where their peers connect. */
  b: TestServer;
  stop(): Promise<void>;
}

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');

async function oneInstance(): Promise<Setup> {
  const server = await startServer(COMMON_ENV);
  return { a: server, b: server, stop: () => server.close() };
}

async function twoInstances(): Promise<Setup> {
  const schema = `hubbub_transports_${randomBytes(4).toString('hex')}`;
  await pgQuery(postgres.url, `CREATE SCHEMA "${schema}"`);
  const url = new URL(postgres.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env = { ...COMMON_ENV, REDIS_URL: redis.url, DATABASE_URL: url.toString() };
  const a = await startServer({ ...env, NODE_ID: `${schema}-a` });
  const b = await startServer({ ...env, NODE_ID: `${schema}-b` });
  return {
    a,
    b,
    stop: async () => {
      await a.close();
      await b.close();
      await pgQuery(postgres.url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

function protocolSuite(mode: string, setup: () => Promise<Setup>): void {
  describe.each(TRANSPORTS)(`over %s (${mode})`, (transport: TransportName) => {
    let s: Setup;
    const clients: ProtocolClient[] = [];
    beforeAll(async () => {
      s = await setup();
    }, 30_000);
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    afterAll(async () => {
      await s?.stop();
    });

    /** A client over the transport under test: streaming from A, sending to B. */
    const open = async (sub: string, claims: Record<string, unknown> = {}) => {
      const client = await connectOver(transport, s.a, await s.a.token(sub, claims), {
        sendTo: s.b.url,
      });
      clients.push(client);
      return client;
    };
    /** A WebSocket peer on B. */
    const peer = async (sub: string, claims: Record<string, unknown> = {}) => {
      const client = await connectOver('websocket', s.b, await s.b.token(sub, claims));
      clients.push(client);
      return client;
    };

    it('welcomes with the user, and a session on the HTTP transports', async () => {
      const user = `u-${rid()}`;
      const client = await open(user);
      expect(client.frames[0]).toMatchObject({ event: 'welcome', data: { userId: user } });
      if (client instanceof StreamTestClient) {
        expect(client.session).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{32}$/);
        expect(client.response.headers['cache-control']).toBe('no-cache');
        expect(client.response.headers['x-accel-buffering']).toBe('no');
        expect(client.response.headers['content-encoding']).toBeUndefined();
      }
      expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
    });

    it('chat: joins, sends, pushes both ways, reads history, sees presence', async () => {
      const room = `lobby-${rid()}`;
      const alice = await open(`alice-${rid()}`, { name: 'Alice' });
      const bobId = `bob-${rid()}`;
      const bob = await peer(bobId);
      expect(await alice.call('chat.join', { room })).toMatchObject({ room, seq: 0, messages: [] });
      await bob.call('chat.join', { room });
      expect((await alice.next('presence.join')).data.member.userId).toBe(bobId);
      const sent = await alice.call('chat.send', { room, text: 'hi from a stream' });
      expect(sent.message).toMatchObject({ room, seq: 1, name: 'Alice', text: 'hi from a stream' });
      expect((await bob.next('chat.message')).data).toEqual(sent.message);
      const back = await bob.call('chat.send', { room, text: 'hi back' });
      expect((await alice.next('chat.message')).data).toEqual(back.message);
      const history = await alice.call('chat.history', { room });
      expect(history.messages.map((m: { text: string }) => m.text)).toEqual([
        'hi from a stream',
        'hi back',
      ]);
      await bob.close();
      expect((await alice.next('presence.leave')).data).toMatchObject({ room, userId: bobId });
    });

    it('replies in order to frames sent one after another', async () => {
      const client = await open(`u-${rid()}`);
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.request('ping', { i })),
      );
      expect(replies.map((r) => r.event)).toEqual(Array(10).fill('pong'));
    });

    it('channels: subscribes and receives publications from a socket and the server API', async () => {
      const channel = `news-${rid()}`;
      const sub = await open(`s-${rid()}`);
      const pub = await peer(`p-${rid()}`, { publish: ['news-*'] });
      expect(await sub.call('channel.subscribe', { channel })).toMatchObject({
        channel,
        offset: 0,
        recovered: true,
      });
      await pub.call('channel.publish', { channel, data: { n: 1 } });
      expect((await sub.next('channel.message')).data).toMatchObject({ channel, data: { n: 1 } });
      const res = await api(s.b, 'POST', `/api/channels/${channel}/publish`, { data: 'from api' });
      expect(res.status).toBe(201);
      expect((await sub.next('channel.message')).data.data).toBe('from api');
      await sub.call('channel.unsubscribe', { channel });
    });

    it('presence: a closed client leaves its rooms, and its quota slot is given back', async () => {
      const room = `p-${rid()}`;
      const user = `leaver-${rid()}`;
      const watcher = await peer(`w-${rid()}`);
      await watcher.call('chat.join', { room });
      const leaver = await open(user);
      await leaver.call('chat.join', { room });
      expect((await watcher.next('presence.join')).data.member.userId).toBe(user);
      await leaver.close();
      expect((await watcher.next('presence.leave')).data).toMatchObject({ room, userId: user });
      const { members } = await watcher.call('presence.list', { room });
      expect(members.map((m: { userId: string }) => m.userId)).not.toContain(user);
    });

    it('errors: the same error frames as on a socket, and the session stays open', async () => {
      const client = await open(`e-${rid()}`);
      client.send('{not json');
      expect((await client.next('error')).data.code).toBe('bad_json');
      expect((await client.request('no.such.event')).data.code).toBe('unknown_event');
      const invalid = await client.request('chat.join', { room: 'bad room!' });
      expect(invalid.data.code).toBe('validation_failed');
      expect((await client.request('chat.send', { room: `r-${rid()}`, text: 'x' })).data.code).toBe(
        'not_joined',
      );
      expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
    });

    it('after the stream closes, its session is unknown to both instances (404)', async () => {
      const user = `c-${rid()}`;
      const client = await open(user);
      if (!(client instanceof StreamTestClient)) return; // a socket has no session to send to
      const session = client.session;
      expect(await client.post([{ event: 'ping', id: 1 }])).toBe(202);
      await client.wait((f) => f.id === 1, 'pong');
      await client.close();
      const frames = [{ event: 'ping' }];
      for (const target of [s.a, s.b]) {
        await until(
          async () =>
            (await postSend(target.url, client.token, { session, frames })).status === 404,
        );
      }
    });

    it('server API disconnect closes the client with 4403', async () => {
      const user = `d-${rid()}`;
      const client = await open(user);
      const res = await api(s.b, 'POST', `/api/users/${user}/disconnect`);
      expect(res.status).toBe(202);
      expect(await client.waitClose()).toBe(4403);
    });
  });
}

protocolSuite('one instance', oneInstance);

// Whichever service is missing decides: its gate skips the block, or fails it under REQUIRE_SERVICES=1.
(redis.available ? postgres : redis).describe('two instances, Redis and PostgreSQL', () => {
  protocolSuite('two instances', twoInstances);
});

/** Polls a condition another instance makes true (a session's removal travels through Redis). */
async function until(condition: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
