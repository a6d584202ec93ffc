/**
 * The server REST API end to end (docs/protocol.md, "Server API"): every route, its authentication with
 * API_KEY, its effect on connected WebSocket clients, and its 400 answers for bad input.
 */
import { expectNoPush, trackedClients } from '../support/clients';
import { presentMember, publication, range, rid, storedMessage } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';

const API_KEY = 'server-api-test-key-0123456789';
const api = serverApi(API_KEY);

/** One of each route, with a valid request. Every row has all three cells: jest.each would take a callback with
 * more parameters than the row has cells for a `done`-style test. */
const ROUTES: [method: 'GET' | 'POST', path: string, body: unknown][] = [
  ['POST', '/api/channels/api-chan/publish', { data: 1 }],
  ['POST', '/api/rooms/api-room/messages', { userId: 'u', text: 't' }],
  ['GET', '/api/rooms/api-room/messages', undefined],
  ['GET', '/api/rooms/api-room/presence', undefined],
  ['POST', '/api/broadcast', { data: 1 }],
  ['GET', '/api/stats', undefined],
  ['POST', '/api/users/nobody/disconnect', undefined],
];

/** Every string of a Nest 400 body's `message` list. */
const messagesOf = (body: { message?: unknown }): string[] =>
  Array.isArray(body.message) ? (body.message as string[]) : [String(body.message)];

describe('server API', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ API_KEY });
  });
  afterAll(async () => {
    await server?.close();
  });

  const { connect, closeAll } = trackedClients(() => server);

  describe('authentication', () => {
    it.each(ROUTES)(
      '%s %s answers 401 without an Authorization header',
      async (method, path, body) => {
        const res = await api(server, method, path, body, null);
        expect(res.status).toBe(401);
      },
    );

    it.each(ROUTES)('%s %s answers 401 with a wrong key', async (method, path, body) => {
      expect((await api(server, method, path, body, 'wrong-key')).status).toBe(401);
      expect((await api(server, method, path, body, `${API_KEY}x`)).status).toBe(401);
      expect((await api(server, method, path, body, API_KEY.slice(0, -1))).status).toBe(401);
    });

    it('a client token is not an API key', async () => {
      const token = await server.token('alice', { roles: ['admin'] });
      expect((await api(server, 'GET', '/api/stats', undefined, token)).status).toBe(401);
    });

    it('a refused request has no effect', async () => {
      const room = `room-${rid()}`;
      const res = await api(
        server,
        'POST',
        `/api/rooms/${room}/messages`,
        { userId: 'u', text: 'x' },
        'nope',
      );
      expect(res.status).toBe(401);
      expect((await api(server, 'GET', `/api/rooms/${room}/messages`)).body).toEqual({
        messages: [],
      });
    });
  });

  describe('POST /api/channels/:channel/publish', () => {
    it('answers 201 {offset} counting up and pushes channel.message to subscribers', async () => {
      const channel = `chan-${rid()}`;
      const s = await connect(`sub-${rid()}`);
      await s.call('channel.subscribe', { channel });
      const first = await api(server, 'POST', `/api/channels/${channel}/publish`, {
        data: { a: 1 },
      });
      expect(first).toEqual({ status: 201, body: { offset: 1 } });
      const second = await api(server, 'POST', `/api/channels/${channel}/publish`, { data: 'two' });
      expect(second).toEqual({ status: 201, body: { offset: 2 } });
      expect((await s.next('channel.message')).data).toEqual(
        publication({ channel, offset: 1, data: { a: 1 } }),
      );
      expect((await s.next('channel.message')).data).toMatchObject({ offset: 2, data: 'two' });
    });

    it('answers 400 naming data when the body has none', async () => {
      const res = await api(server, 'POST', `/api/channels/chan-${rid()}/publish`, {});
      expect(res.status).toBe(400);
      expect(messagesOf(res.body).some((m) => m.includes('data'))).toBe(true);
    });

    it('answers 400 for an invalid channel name', async () => {
      const res = await api(
        server,
        'POST',
        `/api/channels/${encodeURIComponent('bad name')}/publish`,
        { data: 1 },
      );
      expect(res.status).toBe(400);
      expect(messagesOf(res.body).some((m) => m.includes('channel'))).toBe(true);
    });
  });

  describe('POST /api/rooms/:room/messages', () => {
    it('answers 201 {message} with the Message shape and pushes chat.message to every joined client', async () => {
      const room = `room-${rid()}`;
      const a = await connect(`alice-${rid()}`);
      const b = await connect(`bob-${rid()}`);
      const outsider = await connect(`carol-${rid()}`);
      await a.call('chat.join', { room });
      await b.call('chat.join', { room });
      const mark = outsider.frames.length;

      const res = await api(server, 'POST', `/api/rooms/${room}/messages`, {
        userId: 'system',
        text: 'hello all',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        message: storedMessage({ room, seq: 1, userId: 'system', text: 'hello all' }),
      });
      const pushes = await Promise.all([a, b].map((c) => c.next('chat.message')));
      for (const p of pushes) expect(p.data).toEqual(res.body.message);
      await expectNoPush(outsider, mark, 'chat.message');

      // It shares the room's sequence with socket messages.
      const { message } = await a.call('chat.send', { room, text: 'reply' });
      expect(message.seq).toBe(2);
      const third = await api(server, 'POST', `/api/rooms/${room}/messages`, {
        userId: 'system',
        text: '3',
      });
      expect(third.body.message.seq).toBe(3);
    });

    it.each([
      ['no userId', { text: 'x' }, 'userId'],
      ['an empty userId', { userId: '', text: 'x' }, 'userId'],
      ['no text', { userId: 'u' }, 'text'],
      ['an empty text', { userId: 'u', text: '' }, 'text'],
      ['a 4001 character text', { userId: 'u', text: 'x'.repeat(4001) }, 'text'],
      ['a numeric text', { userId: 'u', text: 5 }, 'text'],
    ])(
      'answers 400 naming the field for a body with %s, and stores nothing',
      async (_what, body, field) => {
        const room = `room-${rid()}`;
        const res = await api(server, 'POST', `/api/rooms/${room}/messages`, body);
        expect(res.status).toBe(400);
        expect(res.body.statusCode).toBe(400);
        expect(messagesOf(res.body).some((m) => m.includes(field))).toBe(true);
        expect((await api(server, 'GET', `/api/rooms/${room}/messages`)).body).toEqual({
          messages: [],
        });
      },
    );

    it('gives one message per field: the first rule each breaks', async () => {
      const res = await api(server, 'POST', `/api/rooms/lobby-${rid()}/messages`, {});
      expect(res.status).toBe(400);
      expect(messagesOf(res.body)).toEqual([
        expect.stringMatching(/^userId /),
        expect.stringMatching(/^text /),
      ]);
      const noUser = await api(server, 'POST', `/api/rooms/lobby-${rid()}/messages`, {
        text: 'hi',
      });
      expect(messagesOf(noUser.body)).toHaveLength(1);
    });

    it('answers 400 for an invalid room name', async () => {
      const res = await api(
        server,
        'POST',
        `/api/rooms/${encodeURIComponent('no/slashes')}/messages`,
        {
          userId: 'u',
          text: 'x',
        },
      );
      expect(res.status).toBe(400);
    });
  });

  describe('GET /api/rooms/:room/messages', () => {
    let room: string;
    beforeAll(async () => {
      room = `room-${rid()}`;
      for (let i = 1; i <= 60; i++) {
        const res = await api(server, 'POST', `/api/rooms/${room}/messages`, {
          userId: 'u',
          text: `m${i}`,
        });
        expect(res.status).toBe(201);
      }
    });

    const seqsOf = async (query: string): Promise<number[]> => {
      const res = await api(server, 'GET', `/api/rooms/${room}/messages${query}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['messages']);
      return (res.body.messages as { seq: number }[]).map((m) => m.seq);
    };

    it('without parameters answers {messages} with the newest 50, ascending', async () => {
      expect(await seqsOf('')).toEqual(range(11, 60));
      const res = await api(server, 'GET', `/api/rooms/${room}/messages?limit=1`);
      expect(res.body.messages).toEqual([
        storedMessage({ room, seq: 60, userId: 'u', text: 'm60' }),
      ]);
    });

    it('with before answers the newest `limit` messages below it', async () => {
      expect(await seqsOf('?before=10&limit=3')).toEqual([7, 8, 9]);
    });

    it('with after answers the oldest `limit` messages above it', async () => {
      expect(await seqsOf('?after=10&limit=3')).toEqual([11, 12, 13]);
      expect(await seqsOf('?after=58')).toEqual([59, 60]);
    });

    it('with limit alone answers the newest `limit`', async () => {
      expect(await seqsOf('?limit=100')).toEqual(range(1, 60));
      expect(await seqsOf('?limit=2')).toEqual([59, 60]);
    });

    it('answers {messages: []} for a room without messages', async () => {
      expect((await api(server, 'GET', `/api/rooms/empty-${rid()}/messages`)).body).toEqual({
        messages: [],
      });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['before=-1', 'before'],
      ['after=1.5', 'after'],
    ])('answers 400 naming the field for ?%s', async (query, field) => {
      const res = await api(server, 'GET', `/api/rooms/${room}/messages?${query}`);
      expect(res.status).toBe(400);
      expect(messagesOf(res.body).some((m) => m.includes(field))).toBe(true);
    });
  });

  describe('GET /api/rooms/:room/presence', () => {
    it('answers {members} with the members and their connection counts', async () => {
      const room = `room-${rid()}`;
      const alice = `alice-${rid()}`;
      const bob = `bob-${rid()}`;
      const a1 = await connect(alice, { name: 'Alice' });
      const a2 = await connect(alice);
      const b = await connect(bob);
      await a1.call('chat.join', { room });
      await a2.call('chat.join', { room });
      await b.call('chat.join', { room });
      const res = await api(server, 'GET', `/api/rooms/${room}/presence`);
      expect(res).toEqual({
        status: 200,
        body: {
          members: [
            presentMember({ userId: alice, name: 'Alice', status: 'online', connections: 2 }),
            presentMember({ userId: bob, status: 'online', connections: 1 }),
          ],
        },
      });
    });

    it('answers {members: []} for an empty room', async () => {
      expect((await api(server, 'GET', `/api/rooms/room-${rid()}/presence`)).body).toEqual({
        members: [],
      });
    });
  });

  describe('POST /api/broadcast', () => {
    it('answers 202 and pushes broadcast {data, from} to every connection, in a room or not', async () => {
      const a = await connect(`alice-${rid()}`);
      const b = await connect(`bob-${rid()}`);
      await a.call('chat.join', { room: `room-${rid()}` });
      const data = { notice: `maintenance-${rid()}` };
      const res = await api(server, 'POST', '/api/broadcast', { data });
      expect(res.status).toBe(202);
      const pushes = await Promise.all(
        [a, b].map((c) => c.next('broadcast', 5000, (f) => f.data?.data?.notice === data.notice)),
      );
      for (const p of pushes) expect(p.data).toEqual({ data, from: expect.any(String) });
    });

    it('answers 400 naming data when the body has none', async () => {
      const res = await api(server, 'POST', '/api/broadcast', {});
      expect(res.status).toBe(400);
      expect(messagesOf(res.body).some((m) => m.includes('data'))).toBe(true);
    });
  });

  describe('GET /api/stats', () => {
    it('answers {connections, rooms, channels, uptimeSec, node} counting what is open', async () => {
      const fresh = await startServer({ API_KEY, NODE_ID: `node-${rid()}` });
      try {
        const empty = await api(fresh, 'GET', '/api/stats');
        expect(empty).toEqual({
          status: 200,
          body: {
            connections: 0,
            rooms: 0,
            channels: 0,
            uptimeSec: expect.any(Number),
            node: fresh.config.nodeId,
          },
        });
        expect(empty.body.uptimeSec).toBeGreaterThanOrEqual(0);

        const a = await connect('alice', {}, fresh);
        const b = await connect('bob', {}, fresh);
        await a.call('chat.join', { room: 'r1' });
        await b.call('chat.join', { room: 'r1' });
        await b.call('chat.join', { room: 'r2' });
        await a.call('channel.subscribe', { channel: 'c1' });
        const busy = await api(fresh, 'GET', '/api/stats');
        expect(busy.body).toEqual({
          connections: 2,
          rooms: 2,
          channels: 1,
          uptimeSec: expect.any(Number),
          node: fresh.config.nodeId,
        });
      } finally {
        await closeAll();
        await fresh.close();
      }
    });
  });

  describe('POST /api/users/:userId/disconnect', () => {
    it("answers 202 and closes every connection of that user with 4403, and nobody else's", async () => {
      const room = `room-${rid()}`;
      const alice = `alice-${rid()}`;
      const a1 = await connect(alice);
      const a2 = await connect(alice);
      const b = await connect(`bob-${rid()}`);
      await a1.call('chat.join', { room });
      await b.call('chat.join', { room });

      const res = await api(server, 'POST', `/api/users/${alice}/disconnect`);
      expect(res.status).toBe(202);
      expect(await a1.waitClose()).toBe(4403);
      expect(await a2.waitClose()).toBe(4403);
      // The others see the user leave, and stay connected themselves.
      expect((await b.next('presence.leave')).data).toEqual({
        room,
        userId: alice,
        v: expect.any(Number),
      });
      expect((await b.request('ping')).event).toBe('pong');
      expect(b.closeCode).toBeUndefined();
    });

    it('answers 202 for a user with no connection', async () => {
      expect((await api(server, 'POST', `/api/users/ghost-${rid()}/disconnect`)).status).toBe(202);
    });

    it('lets the user connect again afterwards', async () => {
      const alice = `alice-${rid()}`;
      const a = await connect(alice);
      await api(server, 'POST', `/api/users/${alice}/disconnect`);
      expect(await a.waitClose()).toBe(4403);
      const again = await connect(alice);
      expect((await again.request('ping')).event).toBe('pong');
    });
  });
});

describe('server API without API_KEY', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(ROUTES)('%s %s answers 404, with or without a key', async (method, path, body) => {
    expect((await api(server, method, path, body, null)).status).toBe(404);
    expect((await api(server, method, path, body, 'anything')).status).toBe(404);
  });
});
