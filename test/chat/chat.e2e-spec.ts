/**
 * Chat rooms end to end (docs/protocol.md: frames, "Chat rooms", delivery guarantees), over real sockets against a real server.
 * The whole suite runs once per message store: SQLite (default) and PostgreSQL (behind the postgres gate).
 * PostgreSQL data outlives a run, so every room and user id carries a random suffix.
 */
import { expectNoPush, fullHistory, trackedClients } from '../support/clients';
import { presentMember, range, rid, storedMessage, type Message } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { startServer, type TestServer } from '../support/server';
import type { TestClient } from '../support/ws-client';

const pg = servicesGate('postgres');

interface Backend {
  name: string;
  env: () => Record<string, string>;
  gate: (name: string, fn: () => void) => void;
}

const backends: Backend[] = [
  { name: 'SQLite', env: () => ({}), gate: (name, fn) => describe(name, fn) },
  {
    name: 'PostgreSQL',
    env: () => ({ DATABASE_URL: pg.url }),
    gate: (name, fn) => pg.describe(name, fn),
  },
];

// Generous rate limits: several tests fire dozens of requests at once from one connection.
const BASE_ENV = { RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' };

const seqs = (messages: Message[]): number[] => messages.map((m) => m.seq);

describe.each(backends)('chat rooms on $name', ({ name, env, gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ ...BASE_ENV, ...env() });
    });
    afterAll(async () => {
      await server?.close();
    });

    const { connect } = trackedClients(() => server);

    /** Sends n messages concurrently from one connection; returns the replies' messages sorted by seq. */
    const sendMany = async (client: TestClient, room: string, n: number): Promise<Message[]> => {
      const replies = await Promise.all(
        range(1, n).map(
          (i) => client.call('chat.send', { room, text: `m${i}` }) as Promise<{ message: Message }>,
        ),
      );
      return replies.map((r) => r.message).sort((a, b) => a.seq - b.seq);
    };

    describe('chat.join', () => {
      it('replies {room, seq, members, messages} with seq 0, the joiner as only member and no messages in a new room', async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const a = await connect(alice, { name: 'Alice' });
        const before = Date.now();
        const reply = await a.call('chat.join', { room });
        expect(reply).toEqual({
          room,
          seq: 0,
          members: [
            presentMember({ userId: alice, name: 'Alice', status: 'online', connections: 1 }),
          ],
          messages: [],
        });
        expect(reply.members[0].since).toBeGreaterThanOrEqual(before - 1000);
      });

      it('without since returns the last 50 messages in ascending seq and the room seq', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const sent = await sendMany(a, room, 60);
        expect(seqs(sent)).toEqual(range(1, 60));

        const b = await connect(`bob-${rid()}`);
        const reply = await b.call('chat.join', { room });
        expect(reply.seq).toBe(60);
        expect(seqs(reply.messages)).toEqual(range(11, 60));
        expect(reply.messages).toEqual(sent.slice(10));
      });

      it('with since returns the messages with seq > since, at most 100', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        await sendMany(a, room, 120);

        const b = await connect(`bob-${rid()}`);
        const capped = await b.call('chat.join', { room, since: 5 });
        expect(capped.seq).toBe(120);
        expect(seqs(capped.messages)).toEqual(range(6, 105));

        const c = await connect(`carol-${rid()}`);
        const tail = await c.call('chat.join', { room, since: 110 });
        expect(seqs(tail.messages)).toEqual(range(111, 120));

        const d = await connect(`dave-${rid()}`);
        const upToDate = await d.call('chat.join', { room, since: 120 });
        expect(upToDate).toMatchObject({ room, seq: 120, messages: [] });
      });

      it('lists every member present with their connection count', async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const bob = `bob-${rid()}`;
        const a1 = await connect(alice);
        const a2 = await connect(alice);
        await a1.call('chat.join', { room });
        await a2.call('chat.join', { room });
        const b = await connect(bob);
        const reply = await b.call('chat.join', { room });
        const byUser = Object.fromEntries(
          reply.members.map((m: { userId: string; connections: number }) => [
            m.userId,
            m.connections,
          ]),
        );
        expect(byUser).toEqual({ [alice]: 2, [bob]: 1 });
      });

      it.each([
        ['a space', 'bad room'],
        ['an empty name', ''],
        ['129 characters', 'x'.repeat(129)],
        ['a slash', 'a/b'],
      ])('refuses a room name with %s as validation_failed', async (_what, room) => {
        const a = await connect(`alice-${rid()}`);
        const reply = await a.request('chat.join', { room });
        expect(reply.event).toBe('error');
        expect(reply.data.code).toBe('validation_failed');
        expect(reply.data.details).toEqual([{ field: 'room', errors: expect.any(Array) }]);
      });

      it('accepts a 128 character name made of every allowed character class', async () => {
        const room = `Az09_.:-${rid()}`.padEnd(128, 'x');
        const a = await connect(`alice-${rid()}`);
        expect(await a.call('chat.join', { room })).toMatchObject({ room, seq: 0 });
      });
    });

    describe('chat.leave', () => {
      it('replies {room} and stops the pushes of that room', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        const b = await connect(`bob-${rid()}`);
        await a.call('chat.join', { room });
        await b.call('chat.join', { room });
        expect(await b.call('chat.leave', { room })).toEqual({ room });

        const mark = b.frames.length;
        await a.call('chat.send', { room, text: 'after leave' });
        await expectNoPush(b, mark, 'chat.message');
      });

      it('after leaving, chat.send answers not_joined', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        await a.call('chat.leave', { room });
        const reply = await a.request('chat.send', { room, text: 'x' });
        expect(reply.data.code).toBe('not_joined');
      });
    });

    describe('chat.send', () => {
      it('replies {message} with the full Message shape', async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const a = await connect(alice, { name: 'Alice' });
        await a.call('chat.join', { room });
        const before = Date.now();
        const reply = await a.call('chat.send', { room, text: 'hello', clientMsgId: 'c-1' });
        expect(reply).toEqual({
          message: storedMessage({
            room,
            seq: 1,
            userId: alice,
            name: 'Alice',
            text: 'hello',
            clientMsgId: 'c-1',
          }),
        });
        expect(reply.message.ts).toBeGreaterThanOrEqual(before - 1000);
        expect(reply.message.ts).toBeLessThanOrEqual(Date.now() + 1000);
        const second = await a.call('chat.send', { room, text: 'again' });
        expect(second.message.seq).toBe(2);
        expect(second.message.id).not.toBe(reply.message.id);
        // Optional fields are absent, not null, when unset.
        expect(Object.keys(second.message).sort()).toEqual(
          ['id', 'name', 'room', 'seq', 'text', 'ts', 'userId'].sort(),
        );
      });

      it("pushes chat.message to other members and the sender's other joined connection, not to the sending connection nor to a connection that did not join", async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const a1 = await connect(alice);
        const a2 = await connect(alice);
        const b = await connect(`bob-${rid()}`);
        const outsider = await connect(`carol-${rid()}`);
        const a3NotJoined = await connect(alice);
        await a1.call('chat.join', { room });
        await a2.call('chat.join', { room });
        await b.call('chat.join', { room });

        const marks = [a1, outsider, a3NotJoined].map((c) => c.frames.length);
        const { message } = await a1.call('chat.send', { room, text: 'to everyone' });

        const [toBob, toOtherDevice] = await Promise.all([
          b.next('chat.message'),
          a2.next('chat.message'),
        ]);
        expect(toBob.data).toEqual(message);
        expect(toOtherDevice.data).toEqual(message);
        await expectNoPush(a1, marks[0], 'chat.message');
        await expectNoPush(outsider, marks[1], 'chat.message');
        await expectNoPush(a3NotJoined, marks[2], 'chat.message');
      });

      it.each([
        ['empty', ''],
        ['4001 characters', 'x'.repeat(4001)],
      ])('refuses %s text as validation_failed on text', async (_what, text) => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const reply = await a.request('chat.send', { room, text });
        expect(reply.event).toBe('error');
        expect(reply.data.code).toBe('validation_failed');
        expect(reply.data.details).toEqual([{ field: 'text', errors: expect.any(Array) }]);
        // Nothing was stored.
        expect((await a.call('chat.history', { room })).messages).toEqual([]);
      });

      it('accepts exactly 4000 characters', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const text = 'é'.repeat(4000);
        const { message } = await a.call('chat.send', { room, text });
        expect(message.text).toBe(text);
      });

      it('refuses a clientMsgId longer than 128 characters as validation_failed', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const reply = await a.request('chat.send', {
          room,
          text: 'x',
          clientMsgId: 'k'.repeat(129),
        });
        expect(reply.data.code).toBe('validation_failed');
        expect(reply.data.details).toEqual([{ field: 'clientMsgId', errors: expect.any(Array) }]);
      });

      it('refuses a text that is not a string as validation_failed', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const reply = await a.request('chat.send', { room, text: 42 });
        expect(reply.data.code).toBe('validation_failed');
      });
    });

    describe('clientMsgId idempotency', () => {
      it('the same clientMsgId from the same user in the same room returns the original message and pushes nothing', async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const a1 = await connect(alice);
        const a2 = await connect(alice);
        const b = await connect(`bob-${rid()}`);
        await a1.call('chat.join', { room });
        await a2.call('chat.join', { room });
        await b.call('chat.join', { room });

        const first = await a1.call('chat.send', { room, text: 'once', clientMsgId: 'k1' });
        expect((await b.next('chat.message')).data).toEqual(first.message);

        const mark = b.frames.length;
        // A retry, even with another text and from the user's other device, yields the original.
        const retry = await a1.call('chat.send', { room, text: 'once', clientMsgId: 'k1' });
        const fromOtherDevice = await a2.call('chat.send', {
          room,
          text: 'changed',
          clientMsgId: 'k1',
        });
        expect(retry.message).toEqual(first.message);
        expect(fromOtherDevice.message).toEqual(first.message);
        await expectNoPush(b, mark, 'chat.message');

        const history = await a1.call('chat.history', { room });
        expect(history.messages).toEqual([first.message]);
      });

      it('the same clientMsgId from another user, or in another room, makes a new message', async () => {
        const room = `room-${rid()}`;
        const other = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        const b = await connect(`bob-${rid()}`);
        await a.call('chat.join', { room });
        await a.call('chat.join', { room: other });
        await b.call('chat.join', { room });

        const mine = await a.call('chat.send', { room, text: 'a', clientMsgId: 'same' });
        const pushed = b.next('chat.message', 5000, (f) => f.data.userId === mine.message.userId);
        expect((await pushed).data).toEqual(mine.message);
        const theirs = await b.call('chat.send', { room, text: 'b', clientMsgId: 'same' });
        expect(theirs.message.id).not.toBe(mine.message.id);
        expect(theirs.message.seq).toBe(2);
        const pushedToA = await a.next(
          'chat.message',
          5000,
          (f) => f.data.id === theirs.message.id,
        );
        expect(pushedToA.data).toEqual(theirs.message);

        const elsewhere = await a.call('chat.send', {
          room: other,
          text: 'a',
          clientMsgId: 'same',
        });
        expect(elsewhere.message).toMatchObject({ room: other, seq: 1 });
      });

      it('concurrent sends with one clientMsgId store a single message', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const replies = await Promise.all(
          range(1, 10).map(() => a.call('chat.send', { room, text: 'dup', clientMsgId: 'burst' })),
        );
        const ids = new Set(replies.map((r: { message: Message }) => r.message.id));
        expect(ids.size).toBe(1);
        expect(replies[0].message.seq).toBe(1);
        expect(seqs((await a.call('chat.history', { room })).messages)).toEqual([1]);
        const next = await a.call('chat.send', { room, text: 'next' });
        expect(next.message.seq).toBe(2);
      });
    });

    describe('chat.history', () => {
      let room: string;
      let reader: TestClient;
      let all: Message[];

      beforeEach(async () => {
        room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        all = await sendMany(a, room, 60);
        reader = await connect(`bob-${rid()}`);
      });

      it('with before returns the newest `limit` messages below it, ascending', async () => {
        const reply = await reader.call('chat.history', { room, before: 20, limit: 5 });
        expect(reply).toEqual({ room, messages: all.slice(14, 19) });
        expect(seqs(reply.messages)).toEqual([15, 16, 17, 18, 19]);
        expect(
          seqs((await reader.call('chat.history', { room, before: 3, limit: 5 })).messages),
        ).toEqual([1, 2]);
        expect((await reader.call('chat.history', { room, before: 1 })).messages).toEqual([]);
      });

      it('with after returns the oldest `limit` messages above it, ascending', async () => {
        const reply = await reader.call('chat.history', { room, after: 20, limit: 5 });
        expect(reply.messages).toEqual(all.slice(20, 25));
        expect(
          seqs((await reader.call('chat.history', { room, after: 57, limit: 5 })).messages),
        ).toEqual([58, 59, 60]);
        expect((await reader.call('chat.history', { room, after: 60 })).messages).toEqual([]);
      });

      it('with after and no limit returns 50 messages', async () => {
        const reply = await reader.call('chat.history', { room, after: 0 });
        expect(seqs(reply.messages)).toEqual(range(1, 50));
      });

      it('with only limit returns the newest `limit` messages', async () => {
        const reply = await reader.call('chat.history', { room, limit: 3 });
        expect(seqs(reply.messages)).toEqual([58, 59, 60]);
      });

      it('with neither returns the newest 50 messages', async () => {
        const reply = await reader.call('chat.history', { room });
        expect(reply.messages).toEqual(all.slice(10));
      });

      it('accepts limit 1 and 100', async () => {
        expect(seqs((await reader.call('chat.history', { room, limit: 1 })).messages)).toEqual([
          60,
        ]);
        expect(seqs((await reader.call('chat.history', { room, limit: 100 })).messages)).toEqual(
          range(1, 60),
        );
      });

      it.each([0, 101, 1.5, -1])(
        'refuses limit %p as validation_failed on limit',
        async (limit) => {
          const reply = await reader.request('chat.history', { room, limit });
          expect(reply.event).toBe('error');
          expect(reply.data.code).toBe('validation_failed');
          expect(reply.data.details).toEqual([{ field: 'limit', errors: expect.any(Array) }]);
        },
      );

      it('needs no join for an open room', async () => {
        const fresh = await connect(`carol-${rid()}`);
        expect((await fresh.call('chat.history', { room, limit: 1 })).messages).toHaveLength(1);
      });

      it('refuses an invalid room name as validation_failed', async () => {
        const reply = await reader.request('chat.history', { room: 'no spaces allowed' });
        expect(reply.data.code).toBe('validation_failed');
      });
    });

    describe('chat.typing and chat.read', () => {
      it('chat.typing replies {} and pushes chat.typing {room, userId, typing} to the others, not to the sender', async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const a = await connect(alice);
        const b = await connect(`bob-${rid()}`);
        await a.call('chat.join', { room });
        await b.call('chat.join', { room });
        const mark = a.frames.length;
        expect(await a.call('chat.typing', { room, typing: true })).toEqual({});
        expect((await b.next('chat.typing')).data).toEqual({ room, userId: alice, typing: true });
        await a.call('chat.typing', { room, typing: false });
        expect((await b.next('chat.typing')).data).toEqual({ room, userId: alice, typing: false });
        await expectNoPush(a, mark, 'chat.typing');
        // Not stored.
        expect((await a.call('chat.history', { room })).messages).toEqual([]);
      });

      it('chat.typing with a non-boolean typing is validation_failed', async () => {
        const room = `room-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        await a.call('chat.join', { room });
        const reply = await a.request('chat.typing', { room, typing: 'yes' });
        expect(reply.data.code).toBe('validation_failed');
      });

      it('chat.read replies {} and pushes chat.read {room, userId, seq} to the room', async () => {
        const room = `room-${rid()}`;
        const bob = `bob-${rid()}`;
        const a = await connect(`alice-${rid()}`);
        const b = await connect(bob);
        await a.call('chat.join', { room });
        await b.call('chat.join', { room });
        const { message } = await a.call('chat.send', { room, text: 'read me' });
        expect(await b.call('chat.read', { room, seq: message.seq })).toEqual({});
        expect((await a.next('chat.read')).data).toEqual({ room, userId: bob, seq: message.seq });
      });

      it.each(['chat.send', 'chat.typing', 'chat.read'])(
        '%s to a room not joined answers not_joined',
        async (event) => {
          const room = `room-${rid()}`;
          const a = await connect(`alice-${rid()}`);
          const data = { room, text: 'x', typing: true, seq: 1 };
          const reply = await a.request(event, data);
          expect(reply.event).toBe('error');
          expect(reply.data.code).toBe('not_joined');
          expect(reply.id).toBeDefined();
          // The connection stays open and usable.
          expect((await a.request('ping')).event).toBe('pong');
        },
      );
    });

    describe('direct messages', () => {
      it("stores chat.dm in dm:<a>:<b> (sorted) and pushes it to every connection of the recipient, joined or not, and to the sender's other connections", async () => {
        const suffix = rid();
        const zed = `zed-${suffix}`;
        const amy = `amy-${suffix}`;
        const dmRoom = `dm:${amy}:${zed}`;
        const z1 = await connect(zed, { name: 'Zed' });
        const z2 = await connect(zed);
        const a1 = await connect(amy);
        const a2 = await connect(amy);
        const stranger = await connect(`eve-${suffix}`);
        expect(await a1.call('chat.join', { room: dmRoom })).toMatchObject({
          room: dmRoom,
          seq: 0,
        });

        const marks = [z1, stranger].map((c) => c.frames.length);
        const reply = await z1.call('chat.dm', { to: amy, text: 'psst', clientMsgId: 'd1' });
        expect(reply).toEqual({
          message: storedMessage({
            room: dmRoom,
            seq: 1,
            userId: zed,
            name: 'Zed',
            text: 'psst',
            clientMsgId: 'd1',
          }),
        });
        const pushes = await Promise.all([a1, a2, z2].map((c) => c.next('chat.message')));
        for (const p of pushes) expect(p.data).toEqual(reply.message);
        await expectNoPush(z1, marks[0], 'chat.message');
        await expectNoPush(stranger, marks[1], 'chat.message');

        // A joined recipient got it exactly once (joined AND user push must not double up).
        await expectNoPush(a1, a1.frames.indexOf(pushes[0]) + 1, 'chat.message');
      });

      it('a retried chat.dm with the same clientMsgId returns the original and pushes nothing', async () => {
        const suffix = rid();
        const a = await connect(`amy-${suffix}`);
        const b = await connect(`bob-${suffix}`);
        const first = await a.call('chat.dm', {
          to: `bob-${suffix}`,
          text: 'hi',
          clientMsgId: 'x',
        });
        await b.next('chat.message');
        const mark = b.frames.length;
        const again = await a.call('chat.dm', {
          to: `bob-${suffix}`,
          text: 'hi',
          clientMsgId: 'x',
        });
        expect(again.message).toEqual(first.message);
        await expectNoPush(b, mark, 'chat.message');
      });

      it('joining your own dm room works and its join reply and history show the conversation', async () => {
        const suffix = rid();
        const amy = `amy-${suffix}`;
        const bob = `bob-${suffix}`;
        const a = await connect(amy);
        const b = await connect(bob);
        const m1 = (await a.call('chat.dm', { to: bob, text: 'one' })).message;
        const m2 = (await b.call('chat.dm', { to: amy, text: 'two' })).message;
        expect(m1.room).toBe(`dm:${amy}:${bob}`);
        expect(m2.room).toBe(m1.room);
        expect([m1.seq, m2.seq]).toEqual([1, 2]);

        const joined = await b.call('chat.join', { room: m1.room });
        expect(joined).toMatchObject({ room: m1.room, seq: 2, messages: [m1, m2] });
        expect((await a.call('chat.history', { room: m1.room })).messages).toEqual([m1, m2]);
      });

      it('chat.send in a joined dm room behaves like chat.dm: the peer gets it without joining', async () => {
        const suffix = rid();
        const amy = `amy-${suffix}`;
        const bob = `bob-${suffix}`;
        const a = await connect(amy);
        const b = await connect(bob);
        const room = `dm:${amy}:${bob}`;
        await a.call('chat.join', { room });
        const { message } = await a.call('chat.send', { room, text: 'via send' });
        expect(message).toMatchObject({ room, seq: 1, userId: amy });
        expect((await b.next('chat.message')).data).toEqual(message);
      });

      it("joining or reading someone else's dm room is forbidden", async () => {
        const suffix = rid();
        const amy = `amy-${suffix}`;
        const bob = `bob-${suffix}`;
        const a = await connect(amy);
        await a.call('chat.dm', { to: bob, text: 'secret' });
        const eve = await connect(`eve-${suffix}`);
        const room = `dm:${amy}:${bob}`;
        const join = await eve.request('chat.join', { room });
        expect(join.event).toBe('error');
        expect(join.data.code).toBe('forbidden');
        const history = await eve.request('chat.history', { room });
        expect(history.data.code).toBe('forbidden');
        // The unsorted spelling names no room anyone may join.
        const unsorted = await a.request('chat.join', { room: `dm:${bob}:${amy}` });
        expect(unsorted.data.code).toBe('forbidden');
      });

      // dm rooms are `dm:<a>:<b>`: they exist only between user ids made of the name alphabet without ':',
      // so that the room name is valid and says unambiguously who its two users are.
      it("refuses a dm to a user id containing ':' so that two pairs can never share a room", async () => {
        const s = rid();
        const sender = await connect(`u${s}`);
        const reply = await sender.request('chat.dm', { to: `v${s}:w`, text: 'ambiguous' });
        expect(reply.event).toBe('error');
        expect(reply.data.code).toBe('validation_failed');
        expect(reply.data.details).toEqual([{ field: 'to', errors: [expect.any(String)] }]);

        const intruder = await connect(`u${s}:v${s}`);
        const read = await intruder.request('chat.history', { room: `dm:u${s}:v${s}:w` });
        expect(read.data.code).toBe('forbidden');
        const own = await intruder.request('chat.dm', { to: 'w', text: 'from an id with a colon' });
        expect(own.data.code).toBe('forbidden');
      });

      it('refuses a dm to a user id outside the room-name alphabet instead of storing an unreadable room', async () => {
        const s = rid();
        const a = await connect(`amy${s}`);
        const reply = await a.request('chat.dm', { to: `bob${s}@example.com`, text: 'hello bob' });
        expect(reply.data.code).toBe('validation_failed');
      });

      it('lets both users of a dm read it back through its room', async () => {
        const s = rid();
        const a = await connect(`amy${s}`);
        const { message } = await a.call('chat.dm', { to: `bob${s}`, text: 'hello bob' });
        const b = await connect(`bob${s}`);
        const history = await b.call('chat.history', { room: message.room });
        expect(history.messages).toEqual([message]);
      });

      it('refuses an empty or too long dm text as validation_failed', async () => {
        const a = await connect(`amy-${rid()}`);
        expect((await a.request('chat.dm', { to: 'bob', text: '' })).data.code).toBe(
          'validation_failed',
        );
        expect((await a.request('chat.dm', { to: 'bob', text: 'x'.repeat(4001) })).data.code).toBe(
          'validation_failed',
        );
      });
    });

    describe('private rooms', () => {
      it('joining a private: room without a rooms claim is forbidden', async () => {
        const a = await connect(`alice-${rid()}`);
        const reply = await a.request('chat.join', { room: `private:team-${rid()}` });
        expect(reply.event).toBe('error');
        expect(reply.data.code).toBe('forbidden');
      });

      it('joining a private: room whose name matches no rooms glob is forbidden', async () => {
        const a = await connect(`alice-${rid()}`, { rooms: ['private:team-*'] });
        const reply = await a.request('chat.join', { room: `private:other-${rid()}` });
        expect(reply.data.code).toBe('forbidden');
      });

      it('joining a private: room matching a rooms glob works, and members exchange messages', async () => {
        const room = `private:team-${rid()}`;
        const a = await connect(`alice-${rid()}`, { rooms: ['private:team-*'] });
        const b = await connect(`bob-${rid()}`, { rooms: [room] });
        expect(await a.call('chat.join', { room })).toMatchObject({ room, seq: 0 });
        await b.call('chat.join', { room });
        const { message } = await a.call('chat.send', { room, text: 'team only' });
        expect((await b.next('chat.message')).data).toEqual(message);
      });

      it('chat.history on a private room without rights is forbidden, with rights allowed', async () => {
        const room = `private:team-${rid()}`;
        const a = await connect(`alice-${rid()}`, { rooms: ['private:team-*'] });
        await a.call('chat.join', { room });
        await a.call('chat.send', { room, text: 'hidden' });
        const outsider = await connect(`eve-${rid()}`);
        const denied = await outsider.request('chat.history', { room });
        expect(denied.event).toBe('error');
        expect(denied.data.code).toBe('forbidden');
        const insider = await connect(`bob-${rid()}`, { rooms: ['private:*'] });
        expect((await insider.call('chat.history', { room })).messages).toHaveLength(1);
      });
    });

    describe('MAX_SUBSCRIPTIONS', () => {
      let small: TestServer;
      beforeAll(async () => {
        small = await startServer({ ...BASE_ENV, ...env(), MAX_SUBSCRIPTIONS: '3' });
      });
      afterAll(async () => {
        await small?.close();
      });

      it('the fourth chat.join answers limit_exceeded', async () => {
        const a = await connect(`alice-${rid()}`, {}, small);
        for (let i = 0; i < 3; i++) await a.call('chat.join', { room: `room-${rid()}` });
        const fourth = `room-${rid()}`;
        const reply = await a.request('chat.join', { room: fourth });
        expect(reply.event).toBe('error');
        expect(reply.data.code).toBe('limit_exceeded');
        // The refused join left no trace: sending there is not_joined.
        expect((await a.request('chat.send', { room: fourth, text: 'x' })).data.code).toBe(
          'not_joined',
        );
      });

      it('rooms and channels count together: the fourth channel.subscribe answers limit_exceeded', async () => {
        const a = await connect(`alice-${rid()}`, {}, small);
        await a.call('chat.join', { room: `room-${rid()}` });
        await a.call('chat.join', { room: `room-${rid()}` });
        await a.call('channel.subscribe', { channel: `chan-${rid()}` });
        const reply = await a.request('channel.subscribe', { channel: `chan-${rid()}` });
        expect(reply.data.code).toBe('limit_exceeded');
        const join = await a.request('chat.join', { room: `room-${rid()}` });
        expect(join.data.code).toBe('limit_exceeded');
      });

      it('joining a room already joined does not count again, and leaving frees a slot', async () => {
        const a = await connect(`alice-${rid()}`, {}, small);
        const rooms = [rid(), rid(), rid()].map((r) => `room-${r}`);
        for (const room of rooms) await a.call('chat.join', { room });
        expect(await a.call('chat.join', { room: rooms[0] })).toMatchObject({ room: rooms[0] });
        await a.call('chat.leave', { room: rooms[1] });
        const room = `room-${rid()}`;
        expect(await a.call('chat.join', { room })).toMatchObject({ room });
      });

      it('the limit is per connection: another connection of the same user has its own', async () => {
        const alice = `alice-${rid()}`;
        const a1 = await connect(alice, {}, small);
        const a2 = await connect(alice, {}, small);
        for (let i = 0; i < 3; i++) await a1.call('chat.join', { room: `room-${rid()}` });
        expect(await a2.call('chat.join', { room: `room-${rid()}` })).toMatchObject({ seq: 0 });
      });
    });

    describe('concurrency', () => {
      it('10 users sending 20 messages each at once get unique seqs 1..200 and history agrees', async () => {
        const room = `room-${rid()}`;
        const users = range(1, 10).map((i) => `user${i}-${rid()}`);
        const senders = await Promise.all(users.map((u) => connect(u)));
        for (const s of senders) await s.call('chat.join', { room });

        const replies = await Promise.all(
          senders.flatMap((s, u) =>
            range(1, 20).map(
              (i) =>
                s.call('chat.send', { room, text: `u${u}-m${i}` }) as Promise<{ message: Message }>,
            ),
          ),
        );
        const messages = replies.map((r) => r.message);
        const sorted = [...messages].sort((a, b) => a.seq - b.seq);
        expect(seqs(sorted)).toEqual(range(1, 200));
        expect(new Set(messages.map((m) => m.id)).size).toBe(200);

        expect(await fullHistory(senders[0], room)).toEqual(sorted);

        // Every member saw every message from the other members exactly once (the pong is a barrier).
        await senders[0].request('ping');
        const received = senders[0].frames.filter(
          (f) => f.event === 'chat.message' && f.id === undefined,
        );
        const fromOthers = messages.filter((m) => m.userId !== users[0]);
        expect(received.map((f) => (f.data as Message).seq).sort((a, b) => a - b)).toEqual(
          seqs(fromOthers).sort((a, b) => a - b),
        );
      });
    });
  });
});
