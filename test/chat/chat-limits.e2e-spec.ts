/**
 * Private rooms, MAX_SUBSCRIPTIONS and concurrent sends end to end (docs/protocol.md: "Chat rooms"), once per
 * message store.
 */
import { fullHistory } from '../support/clients';
import { range, rid, type Message } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { BASE_ENV, describeOnEachStore, seqs } from './chat-stores';

describeOnEachStore('chat limits', ({ connect, env }) => {
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
