/**
 * Chat history end to end (docs/protocol.md: "Chat rooms", delivery guarantees): idempotent sends by `clientMsgId`
 * and `chat.history`, once per message store.
 */
import { expectNoPush } from '../support/clients';
import { range, rid, type Message } from '../support/fixtures';
import type { TestClient } from '../support/ws-client';
import { describeOnEachStore, sendMany, seqs } from './chat-stores';

describeOnEachStore('chat history', ({ connect }) => {
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
      const pushedToA = await a.next('chat.message', 5000, (f) => f.data.id === theirs.message.id);
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
      expect(seqs((await reader.call('chat.history', { room, limit: 1 })).messages)).toEqual([60]);
      expect(seqs((await reader.call('chat.history', { room, limit: 100 })).messages)).toEqual(
        range(1, 60),
      );
    });

    it.each([0, 101, 1.5, -1])('refuses limit %p as validation_failed on limit', async (limit) => {
      const reply = await reader.request('chat.history', { room, limit });
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('validation_failed');
      expect(reply.data.details).toEqual([{ field: 'limit', errors: expect.any(Array) }]);
    });

    it('needs no join for an open room', async () => {
      const fresh = await connect(`carol-${rid()}`);
      expect((await fresh.call('chat.history', { room, limit: 1 })).messages).toHaveLength(1);
    });

    it('refuses an invalid room name as validation_failed', async () => {
      const reply = await reader.request('chat.history', { room: 'no spaces allowed' });
      expect(reply.data.code).toBe('validation_failed');
    });
  });
});
