/**
 * Chat rooms end to end (docs/protocol.md: frames, "Chat rooms", delivery guarantees), over real sockets against a real server:
 * join, leave, send. History, direct messages and limits are in chat-history, chat-dm and chat-limits.e2e-spec.ts.
 * Every file runs once per message store (chat-stores.ts).
 */
import { expectNoPush, trackedClients } from '../support/clients';
import { presentMember, range, rid, storedMessage } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { BASE_ENV, backends, sendMany, seqs } from './chat-stores';

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

    describe('chat.join', () => {
      it('replies {room, seq, lastRead, unread, members, messages} with seq 0, the joiner as only member and no messages in a new room', async () => {
        const room = `room-${rid()}`;
        const alice = `alice-${rid()}`;
        const a = await connect(alice, { name: 'Alice' });
        const before = Date.now();
        const reply = await a.call('chat.join', { room });
        expect(reply).toEqual({
          room,
          seq: 0,
          lastRead: 0,
          unread: 0,
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
  });
});
