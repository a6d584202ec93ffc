/**
 * Typing, read markers and direct messages end to end (docs/protocol.md: "Chat rooms"), once per message store.
 */
import { expectNoPush } from '../support/clients';
import { rid, storedMessage } from '../support/fixtures';
import { describeOnEachStore } from './chat-stores';

describeOnEachStore('chat typing, read and direct messages', ({ connect }) => {
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
});
