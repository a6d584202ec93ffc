/**
 * Chat lifecycle end to end (contract section 5, chat-lifecycle): replies and mentions on send, edit, delete,
 * reactions, threads and search, their pushes and webhooks; on SQLite, PostgreSQL, and two instances with Redis
 * (the second user of each test is on the other instance).
 */
import { expectNoPush } from '../support/clients';
import { rid, type Message } from '../support/fixtures';
import type { TestClient } from '../support/ws-client';
import { describeLifecycle } from './lifecycle-modes';

type Msg = Message & {
  replyTo?: number;
  mentions?: string[];
  editedAt?: number;
  deleted?: true;
  reactions?: Record<string, number>;
};

describeLifecycle('chat lifecycle', ({ connect, receiver }) => {
  /** alice (first instance) and bob (the other one), both joined to a fresh room. */
  async function pair(room = `room-${rid()}`, claims: Record<string, unknown> = {}) {
    const s = rid();
    const alice = `alice-${s}`;
    const bob = `bob-${s}`;
    const a = await connect(alice, { name: 'Alice', ...claims });
    const b = await connect(bob, claims, true);
    await a.call('chat.join', { room });
    await b.call('chat.join', { room });
    return { room, alice, bob, a, b };
  }
  const send = async (c: TestClient, room: string, text: string, extra: object = {}) =>
    (await c.call('chat.send', { room, text, ...extra })).message as Msg;
  const errorOf = async (c: TestClient, event: string, data: unknown) => {
    const reply = await c.request(event, data);
    expect(reply.event).toBe('error');
    return reply.data as { code: string; details?: { field: string }[] };
  };
  const history = async (c: TestClient, room: string) =>
    (await c.call('chat.history', { room })).messages as Msg[];

  describe('replies and mentions', () => {
    it('chat.send with replyTo stores it; the push, history and message.created webhook carry replyTo and mentions', async () => {
      const { room, bob, a, b } = await pair();
      const first = await send(a, room, 'question');
      const reply = await send(b, room, `answer for @${bob} and @nobody-${rid()}, mail x@y.z`, {
        replyTo: first.seq,
      });
      expect(reply).toMatchObject({ seq: 2, replyTo: 1 });
      expect(reply.mentions?.[0]).toBe(bob);
      expect((await a.next('chat.message', 5000, (f) => f.data.seq === 2)).data).toEqual(reply);
      expect((await history(a, room))[1]).toEqual(reply);
      const hook = await receiver().next('message.created', (d) => d.room === room && d.seq === 2);
      expect(hook.body.data).toEqual(reply);
    });

    it('replyTo naming an unknown or deleted message is not_found and stores nothing', async () => {
      const { room, a } = await pair();
      await send(a, room, 'one');
      expect((await errorOf(a, 'chat.send', { room, text: 'x', replyTo: 5 })).code).toBe(
        'not_found',
      );
      await a.call('chat.delete', { room, seq: 1 });
      expect((await errorOf(a, 'chat.send', { room, text: 'x', replyTo: 1 })).code).toBe(
        'not_found',
      );
      expect((await history(a, room)).map((m) => m.seq)).toEqual([1]);
      const bad = await errorOf(a, 'chat.send', { room, text: 'x', replyTo: 0 });
      expect(bad.code).toBe('validation_failed');
      expect(bad.details?.[0].field).toBe('replyTo');
    });

    it('mentions hold at most 20 users, each once; in a dm room only its two users; in a private room its members', async () => {
      const { room, a } = await pair();
      const many = Array.from({ length: 25 }, (_, i) => `@u${i}`).join(' ');
      const m = await send(a, room, `${many} @u0 @u1`);
      expect(m.mentions).toEqual(Array.from({ length: 20 }, (_, i) => `u${i}`));

      const s = rid();
      const amy = `amy-${s}`;
      const zed = `zed-${s}`;
      const z = await connect(zed);
      const dm = `dm:${amy}:${zed}`;
      await z.call('chat.join', { room: dm });
      const inDm = await send(z, dm, `@${amy} @${zed} @someone-${s}`);
      expect(inDm.mentions).toEqual([amy, zed]);

      const priv = `private:club-${s}`;
      const claims = { rooms: ['private:*'] };
      const member = await connect(`member-${s}`, claims, true);
      const p = await connect(`poster-${s}`, claims);
      await member.call('chat.join', { room: priv });
      await p.call('chat.join', { room: priv });
      const inPrivate = await send(p, priv, `@member-${s} @outsider-${s}`);
      expect(inPrivate.mentions).toEqual([`member-${s}`]);
      const none = await send(p, priv, `no one @outsider-${s}`);
      expect(none).not.toHaveProperty('mentions');
    });
  });

  describe('chat.edit', () => {
    it('the author edits: reply {message} with editedAt, push chat.updated to the others, history, join and webhook show it', async () => {
      const { room, bob, a, b } = await pair();
      const sent = await send(a, room, 'first draft');
      await b.next('chat.message');
      const before = Date.now();
      const { message } = await a.call('chat.edit', { room, seq: 1, text: `final @${bob}` });
      expect(message).toEqual({
        ...sent,
        text: `final @${bob}`,
        mentions: [bob],
        editedAt: message.editedAt,
      });
      expect(message.editedAt).toBeGreaterThanOrEqual(before - 1000);
      expect((await b.next('chat.updated')).data).toEqual({ room, message });
      expect((await history(b, room))[0]).toEqual(message);
      const c = await connect(`carol-${rid()}`, {}, true);
      expect((await c.call('chat.join', { room })).messages).toEqual([message]);
      const hook = await receiver().next('message.updated', (d) => d.message.room === room);
      expect(hook.body.data).toEqual({ message });
    });

    it('only the author may edit (not admin); unknown or deleted seqs are not_found; nothing changes', async () => {
      const { room, a, b } = await pair();
      await send(a, room, 'mine');
      expect((await errorOf(b, 'chat.edit', { room, seq: 1, text: 'x' })).code).toBe('forbidden');
      const admin = await connect(`admin-${rid()}`, { roles: ['admin'] });
      await admin.call('chat.join', { room });
      expect((await errorOf(admin, 'chat.edit', { room, seq: 1, text: 'x' })).code).toBe(
        'forbidden',
      );
      expect((await errorOf(a, 'chat.edit', { room, seq: 2, text: 'x' })).code).toBe('not_found');
      expect((await history(a, room))[0]).not.toHaveProperty('editedAt');
      await a.call('chat.delete', { room, seq: 1 });
      expect((await errorOf(a, 'chat.edit', { room, seq: 1, text: 'x' })).code).toBe('not_found');
    });

    it.each([
      ['{ text: "" }', { text: '' }, 'text'],
      ['{ text: 4001 x }', { text: 'x'.repeat(4001) }, 'text'],
      ['{ text: "a\\u0000b" }', { text: 'a\u0000b' }, 'text'],
      ['{ text: "x", seq: 0 }', { text: 'x', seq: 0 }, 'seq'],
      ['{ text: "x", seq: 1.5 }', { text: 'x', seq: 1.5 }, 'seq'],
      ['{ text: "x", room: "bad room" }', { text: 'x', room: 'bad room' }, 'room'],
    ])('chat.edit %s is validation_failed on %s', async (_label, data, field) => {
      const { room, a } = await pair();
      await send(a, room, 'keep');
      const e = await errorOf(a, 'chat.edit', { room, seq: 1, ...data });
      expect(e.code).toBe('validation_failed');
      expect(e.details?.map((d) => d.field)).toContain(field);
      expect((await history(a, room))[0].text).toBe('keep');
    });
  });

  describe('chat.delete', () => {
    it('the author deletes: a tombstone without text, name, mentions or reactions; push chat.deleted; twice is fine', async () => {
      const { room, bob, a, b } = await pair();
      await send(a, room, 'before');
      const m = await send(a, room, `secret words @${bob}`);
      await send(a, room, 'after');
      await b.call('chat.react', { room, seq: 2, reaction: 'ok', on: true });
      expect(await a.call('chat.delete', { room, seq: 2 })).toEqual({});
      expect((await b.next('chat.deleted')).data).toEqual({ room, seq: 2 });
      const tombstone = {
        id: m.id,
        room,
        seq: 2,
        userId: m.userId,
        text: '',
        ts: m.ts,
        deleted: true,
      };
      expect((await history(b, room)).map((x) => x.seq)).toEqual([1, 2, 3]);
      expect((await history(b, room))[1]).toEqual(tombstone);
      const mark = b.frames.length;
      expect(await a.call('chat.delete', { room, seq: 2 })).toEqual({});
      await expectNoPush(b, mark, 'chat.deleted');
      expect((await b.call('chat.search', { room, q: 'secret' })).messages).toEqual([]);
      expect((await errorOf(b, 'chat.thread', { room, seq: 2 })).code).toBe('not_found');
      expect((await errorOf(b, 'chat.reactions', { room, seq: 2, reaction: 'ok' })).code).toBe(
        'not_found',
      );
      expect(
        (await errorOf(b, 'chat.react', { room, seq: 2, reaction: 'ok', on: true })).code,
      ).toBe('not_found');
      await receiver().next('message.deleted', (d) => d.room === room);
      expect(
        receiver()
          .of('message.deleted')
          .filter((d) => d.body.data.room === room),
      ).toHaveLength(1);
      expect(
        receiver()
          .of('message.deleted')
          .find((d) => d.body.data.room === room)?.body.data,
      ).toEqual({
        room,
        seq: 2,
        userId: m.userId,
        by: m.userId,
      });
    });

    it('another user may not delete (forbidden, nothing changes); admin may; unknown seqs are not_found', async () => {
      const { room, a, b } = await pair();
      await send(a, room, 'keep me');
      expect((await errorOf(b, 'chat.delete', { room, seq: 1 })).code).toBe('forbidden');
      expect((await history(a, room))[0].text).toBe('keep me');
      expect((await errorOf(b, 'chat.delete', { room, seq: 9 })).code).toBe('not_found');
      const admin = await connect(`admin-${rid()}`, { roles: ['admin'] }, true);
      await admin.call('chat.join', { room });
      expect(await admin.call('chat.delete', { room, seq: 1 })).toEqual({});
      expect((await a.next('chat.deleted')).data).toEqual({ room, seq: 1 });
    });
  });

  describe('reactions', () => {
    it('chat.react counts each user once; push chat.reacted; on:false takes it back; chat.reactions lists users', async () => {
      const { room, alice, bob, a, b } = await pair();
      await send(a, room, 'react to me');
      expect(await b.call('chat.react', { room, seq: 1, reaction: '👍', on: true })).toEqual({
        reactions: { '👍': 1 },
      });
      expect((await a.next('chat.reacted')).data).toEqual({
        room,
        seq: 1,
        reaction: '👍',
        userId: bob,
        on: true,
        count: 1,
      });
      const mark = a.frames.length;
      expect(await b.call('chat.react', { room, seq: 1, reaction: '👍', on: true })).toEqual({
        reactions: { '👍': 1 },
      });
      await expectNoPush(a, mark, 'chat.reacted');
      await a.call('chat.react', { room, seq: 1, reaction: '👍', on: true });
      expect((await b.next('chat.reacted')).data).toMatchObject({ userId: alice, count: 2 });
      expect(await a.call('chat.reactions', { room, seq: 1, reaction: '👍' })).toEqual({
        userIds: [bob, alice],
      });
      expect((await history(a, room))[0].reactions).toEqual({ '👍': 2 });
      expect(await b.call('chat.react', { room, seq: 1, reaction: '👍', on: false })).toEqual({
        reactions: { '👍': 1 },
      });
      expect((await a.next('chat.reacted')).data).toMatchObject({
        userId: bob,
        on: false,
        count: 1,
      });
      const hooks = await (async () => {
        await receiver().until(
          (all) =>
            all.filter((d) => d.body.type === 'message.reacted' && d.body.data.room === room)
              .length >= 3,
          'three message.reacted',
        );
        return receiver()
          .of('message.reacted')
          .filter((d) => d.body.data.room === room);
      })();
      expect(hooks.map((d) => [d.body.data.userId, d.body.data.on, d.body.data.count])).toEqual([
        [bob, true, 1],
        [alice, true, 2],
        [bob, false, 1],
      ]);
    });

    it('at most 20 distinct reactions per message: the 21st is limit_exceeded', async () => {
      const { room, a, b } = await pair();
      await send(a, room, 'many');
      for (let i = 0; i < 20; i++)
        await a.call('chat.react', { room, seq: 1, reaction: `r${i}`, on: true });
      expect(
        (await errorOf(b, 'chat.react', { room, seq: 1, reaction: 'r20', on: true })).code,
      ).toBe('limit_exceeded');
      expect(await b.call('chat.react', { room, seq: 1, reaction: 'r0', on: true })).toMatchObject({
        reactions: { r0: 2 },
      });
    });

    it.each([
      ['{ reaction: "" }', { reaction: '' }, 'reaction'],
      ['{ reaction: "a b" }', { reaction: 'a b' }, 'reaction'],
      ['{ reaction: 33 x }', { reaction: 'x'.repeat(33) }, 'reaction'],
      ['{ reaction: "ok", on: "yes" }', { reaction: 'ok', on: 'yes' }, 'on'],
      ['{ reaction: "ok", seq: -1 }', { reaction: 'ok', seq: -1 }, 'seq'],
    ])('chat.react %s is validation_failed on %s', async (_label, data, field) => {
      const { room, a } = await pair();
      await send(a, room, 'x');
      const e = await errorOf(a, 'chat.react', { room, seq: 1, on: true, ...data });
      expect(e.code).toBe('validation_failed');
      expect(e.details?.map((d) => d.field)).toContain(field);
      expect((await history(a, room))[0]).not.toHaveProperty('reactions');
    });

    it('a 32-character reaction of emoji (code points, not UTF-16 units) is accepted', async () => {
      const { room, a } = await pair();
      await send(a, room, 'x');
      const reaction = '😀'.repeat(32);
      expect(await a.call('chat.react', { room, seq: 1, reaction, on: true })).toEqual({
        reactions: { [reaction]: 1 },
      });
    });
  });

  describe('chat.thread', () => {
    it('lists the replies of a message ascending, with after, limit and more', async () => {
      const { room, a, b } = await pair();
      await send(a, room, 'root');
      for (let i = 1; i <= 5; i++) await send(i % 2 ? a : b, room, `reply ${i}`, { replyTo: 1 });
      await send(a, room, 'unrelated');
      const all = await b.call('chat.thread', { room, seq: 1 });
      expect(all.room).toBe(room);
      expect(all.seq).toBe(1);
      expect(all.more).toBe(false);
      expect(all.messages.map((m: Msg) => m.text)).toEqual(
        [1, 2, 3, 4, 5].map((i) => `reply ${i}`),
      );
      const page = await b.call('chat.thread', { room, seq: 1, after: 3, limit: 2 });
      expect(page.messages.map((m: Msg) => m.seq)).toEqual([4, 5]);
      expect(page.more).toBe(true);
      expect((await b.call('chat.thread', { room, seq: 2 })).messages).toEqual([]);
      expect((await errorOf(b, 'chat.thread', { room, seq: 99 })).code).toBe('not_found');
      const e = await errorOf(b, 'chat.thread', { room, seq: 1, limit: 101 });
      expect(e.details?.[0].field).toBe('limit');
    });
  });

  describe('chat.search', () => {
    it('finds messages holding every word, any order and case, newest first; before, limit and more page back', async () => {
      const { room, a, b } = await pair();
      await send(a, room, 'Deploy the blue build');
      await send(b, room, 'unrelated chatter');
      await send(a, room, 'build is BLUE again!');
      await send(b, room, 'blue sky');
      const found = await b.call('chat.search', { room, q: 'blue build' });
      expect(found).toEqual({ room, messages: expect.any(Array), more: false });
      expect(found.messages.map((m: Msg) => m.seq)).toEqual([3, 1]);
      const first = await b.call('chat.search', { room, q: 'blue', limit: 2 });
      expect(first.messages.map((m: Msg) => m.seq)).toEqual([4, 3]);
      expect(first.more).toBe(true);
      const next = await b.call('chat.search', { room, q: 'blue', limit: 2, before: 3 });
      expect(next.messages.map((m: Msg) => m.seq)).toEqual([1]);
      expect(next.more).toBe(false);
    });

    it('never finds a deleted message; finds an edited one by its new text only', async () => {
      const { room, a, b } = await pair();
      await send(a, room, 'alpha one');
      await send(a, room, 'alpha two');
      await a.call('chat.delete', { room, seq: 1 });
      await a.call('chat.edit', { room, seq: 2, text: 'omega two' });
      expect((await b.call('chat.search', { room, q: 'alpha' })).messages).toEqual([]);
      expect((await b.call('chat.search', { room, q: 'one' })).messages).toEqual([]);
      expect(
        (await b.call('chat.search', { room, q: 'omega' })).messages.map((m: Msg) => m.seq),
      ).toEqual([2]);
    });

    it.each([
      ['{ q: "" }', { q: '' }, 'q'],
      ['{ q: "!!! ..." }', { q: '!!! ...' }, 'q'],
      ['{ q: 257 x }', { q: 'x'.repeat(257) }, 'q'],
      ['{ q: "x", limit: 51 }', { q: 'x', limit: 51 }, 'limit'],
      ['{ q: "x", limit: 0 }', { q: 'x', limit: 0 }, 'limit'],
      ['{ q: "x", before: "a" }', { q: 'x', before: 'a' }, 'before'],
    ])('chat.search %s is validation_failed on %s', async (_label, data, field) => {
      const { room, a } = await pair();
      const e = await errorOf(a, 'chat.search', { room, ...data });
      expect(e.code).toBe('validation_failed');
      expect(e.details?.map((d) => d.field)).toContain(field);
    });
  });

  describe('rights', () => {
    it('a private room the user may not read is forbidden for every request; a readable one not joined is not_joined for changes', async () => {
      const s = rid();
      const room = `private:vault-${s}`;
      const owner = await connect(`owner-${s}`, { rooms: ['private:*'] });
      await owner.call('chat.join', { room });
      await send(owner, room, 'hidden', {});
      const stranger = await connect(`stranger-${s}`, {}, true);
      const requests: [string, object][] = [
        ['chat.edit', { room, seq: 1, text: 'x' }],
        ['chat.delete', { room, seq: 1 }],
        ['chat.react', { room, seq: 1, reaction: 'x', on: true }],
        ['chat.reactions', { room, seq: 1, reaction: 'x' }],
        ['chat.thread', { room, seq: 1 }],
        ['chat.search', { room, q: 'hidden' }],
      ];
      for (const [event, data] of requests) {
        expect([event, (await errorOf(stranger, event, data)).code]).toEqual([event, 'forbidden']);
      }
      const reader = await connect(`reader-${s}`, { rooms: ['private:*'] }, true);
      for (const [event, data] of requests.slice(0, 3)) {
        expect([event, (await errorOf(reader, event, data)).code]).toEqual([event, 'not_joined']);
      }
      for (const [event, data] of requests.slice(3)) {
        expect((await reader.request(event, data)).event).toBe(event);
      }
      expect((await history(owner, room))[0]).toMatchObject({ text: 'hidden' });
      expect((await history(owner, room))[0]).not.toHaveProperty('reactions');
    });
  });
});
