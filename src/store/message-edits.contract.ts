/**
 * Behavioural suite of MessageEdits (with the replies and mentions of MessageStore.append) that every store twin
 * passes. Not a spec file itself: sqlite-message-edits.spec.ts and postgres-message-edits.spec.ts call it.
 */
import { MAX_REACTIONS_PER_MESSAGE, type MessageEdits, searchWords } from './message-edits';
import type { MessageStore, NewMessage, StoredMessage } from './message-store';
import type { WebhookOutbox } from './webhook-outbox';

export interface EditsHarness {
  /** A NEW, un-initialised store on this harness's storage, and the MessageEdits working on it. */
  open(opts: { outbox: boolean }): { store: MessageStore & WebhookOutbox; edits: MessageEdits };
  destroy(): Promise<void>;
}

export function describeMessageEdits(
  name: string,
  factory: () => EditsHarness | Promise<EditsHarness>,
): void {
  describe(`${name} (MessageEdits contract)`, () => {
    let harness: EditsHarness;
    let store: MessageStore & WebhookOutbox;
    let edits: MessageEdits;
    let n = 0;
    const freshRoom = () => `room-${++n}-${Math.random().toString(36).slice(2, 8)}`;
    const append = async (room: string, extra: Partial<NewMessage> = {}) =>
      (await store.append({ room, userId: 'u1', name: 'U One', text: 'hello', ...extra })).message;
    const texts = (ms: StoredMessage[]) => ms.map((m) => m.text);
    const search = (room: string, q: string, before = Number.MAX_SAFE_INTEGER, limit = 50) =>
      edits.search(room, searchWords(q), before, limit);
    /** The outbox's events of `type` about `room`, in order; every due event is taken out (delivered). */
    async function events(type: string, room: string): Promise<unknown[]> {
      const out: unknown[] = [];
      for (;;) {
        const claimed = await store.claimWebhooks(1000, 60_000);
        if (claimed.length === 0) return out;
        for (const e of claimed) {
          await store.completeWebhook(e.id);
          const data = e.data as { room?: string; message?: { room: string } };
          if (e.type === type && (data.room ?? data.message?.room) === room) out.push(e.data);
        }
      }
    }

    beforeAll(async () => {
      harness = await factory();
      ({ store, edits } = harness.open({ outbox: true }));
      await store.init();
    });
    afterAll(async () => {
      await store?.close();
      await harness?.destroy();
    });

    test('append stores replyTo and mentions (deduplicated) and returns them; unset ones stay absent', async () => {
      const room = freshRoom();
      const first = await append(room);
      expect(first).not.toHaveProperty('replyTo');
      expect(first).not.toHaveProperty('mentions');
      expect(first).not.toHaveProperty('deleted');
      expect(first).not.toHaveProperty('reactions');
      expect(first).not.toHaveProperty('editedAt');
      const reply = await append(room, { text: 'hi @a @b', replyTo: 1, mentions: ['a', 'b', 'a'] });
      expect(reply).toMatchObject({ seq: 2, replyTo: 1, mentions: ['a', 'b'] });
      const history = await store.history({ room, limit: 10 });
      expect(history).toEqual([first, reply]);
      expect(await edits.get(room, 2)).toEqual(reply);
      expect(await edits.get(room, 3)).toBeUndefined();
    });

    test('edit sets text, editedAt and mentions; unknown or deleted messages are not edited', async () => {
      const room = freshRoom();
      const m = await append(room, { mentions: ['a'] });
      const at = Date.now();
      const edited = await edits.edit(room, 1, {
        text: 'changed @b',
        mentions: ['b'],
        editedAt: at,
      });
      expect(edited).toEqual({ ...m, text: 'changed @b', mentions: ['b'], editedAt: at });
      expect((await store.history({ room, limit: 10 }))[0]).toEqual(edited);
      const cleared = await edits.edit(room, 1, { text: 'plain', editedAt: at + 1 });
      expect(cleared).not.toHaveProperty('mentions');
      expect(await edits.edit(room, 2, { text: 'x', editedAt: at })).toBeUndefined();
      await edits.delete(room, 1, 'u1');
      expect(await edits.edit(room, 1, { text: 'again', editedAt: at })).toBeUndefined();
      expect((await edits.get(room, 1))?.text).toBe('');
    });

    test('delete leaves a tombstone without text, name, mentions or reactions; seqs stay gapless; deleting again is a no-op', async () => {
      const room = freshRoom();
      await append(room);
      const m = await append(room, { text: 'secret @a', mentions: ['a'], replyTo: 1 });
      await edits.react(room, 2, { reaction: 'ok', userId: 'u2', on: true, ts: 1 });
      await append(room);
      const first = await edits.delete(room, 2, 'u1');
      const tombstone = {
        id: m.id,
        room,
        seq: 2,
        userId: 'u1',
        text: '',
        ts: m.ts,
        replyTo: 1,
        deleted: true,
      };
      expect(first).toEqual({ message: tombstone, changed: true });
      expect(await edits.delete(room, 2, 'u1')).toEqual({ message: tombstone, changed: false });
      expect(await edits.delete(room, 9, 'u1')).toBeUndefined();
      expect((await store.history({ room, limit: 10 })).map((x) => x.seq)).toEqual([1, 2, 3]);
      expect(await store.lastSeq(room)).toBe(3);
      expect(await edits.reactors(room, 2, 'ok', 100)).toBeUndefined();
      expect(await edits.react(room, 2, { reaction: 'ok', userId: 'u3', on: true, ts: 2 })).toEqual(
        {
          status: 'not_found',
        },
      );
    });

    test('reactions count each user once per reaction, off takes it back, and the counts are on the message', async () => {
      const room = freshRoom();
      await append(room);
      const on = (userId: string, reaction = '👍', yes = true) =>
        edits.react(room, 1, { reaction, userId, on: yes, ts: Date.now() });
      expect(await on('a')).toEqual({
        status: 'ok',
        changed: true,
        reactions: { '👍': 1 },
        count: 1,
      });
      expect(await on('a')).toEqual({
        status: 'ok',
        changed: false,
        reactions: { '👍': 1 },
        count: 1,
      });
      expect(await on('b')).toMatchObject({ changed: true, count: 2 });
      expect(await on('a', 'heart')).toMatchObject({ reactions: { '👍': 2, heart: 1 }, count: 1 });
      expect(await on('a', 'heart', false)).toEqual({
        status: 'ok',
        changed: true,
        reactions: { '👍': 2 },
        count: 0,
      });
      expect(await on('a', 'heart', false)).toMatchObject({ changed: false, count: 0 });
      expect((await edits.get(room, 1))?.reactions).toEqual({ '👍': 2 });
      expect(await edits.reactors(room, 1, '👍', 100)).toEqual(['a', 'b']);
      expect(await edits.reactors(room, 1, '👍', 1)).toEqual(['a']);
      expect(await edits.reactors(room, 1, 'none', 100)).toEqual([]);
      await on('a', '👍', false);
      await on('b', '👍', false);
      expect(await edits.get(room, 1)).not.toHaveProperty('reactions');
    });

    test(`at most ${MAX_REACTIONS_PER_MESSAGE} distinct reactions per message; existing ones still count`, async () => {
      const room = freshRoom();
      await append(room);
      for (let i = 0; i < MAX_REACTIONS_PER_MESSAGE; i++) {
        await edits.react(room, 1, { reaction: `r${i}`, userId: 'a', on: true, ts: i });
      }
      expect(
        await edits.react(room, 1, { reaction: 'extra', userId: 'a', on: true, ts: 99 }),
      ).toEqual({
        status: 'limit',
      });
      expect(
        await edits.react(room, 1, { reaction: 'r0', userId: 'b', on: true, ts: 99 }),
      ).toMatchObject({
        changed: true,
        count: 2,
      });
      expect(Object.keys((await edits.get(room, 1))?.reactions ?? {})).toHaveLength(
        MAX_REACTIONS_PER_MESSAGE,
      );
    });

    test('concurrent reactions of many users are all counted', async () => {
      const room = freshRoom();
      await append(room);
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          edits.react(room, 1, { reaction: 'x', userId: `u${i}`, on: true, ts: i }),
        ),
      );
      expect((await edits.get(room, 1))?.reactions).toEqual({ x: 30 });
      expect(await edits.reactors(room, 1, 'x', 100)).toHaveLength(30);
    });

    test('thread lists the replies of a message ascending, after a seq, at most limit', async () => {
      const room = freshRoom();
      await append(room);
      await append(room, { text: 'r1', replyTo: 1 });
      await append(room, { text: 'other' });
      await append(room, { text: 'r2', replyTo: 1 });
      await append(room, { text: 'r3', replyTo: 1 });
      await append(room, { text: 'nested', replyTo: 2 });
      expect(texts(await edits.thread(room, 1, 0, 10))).toEqual(['r1', 'r2', 'r3']);
      expect(texts(await edits.thread(room, 1, 2, 1))).toEqual(['r2']);
      expect(texts(await edits.thread(room, 2, 0, 10))).toEqual(['nested']);
      expect(await edits.thread(room, 3, 0, 10)).toEqual([]);
      expect(await edits.thread(freshRoom(), 1, 0, 10)).toEqual([]);
    });

    test('search finds messages holding every word, in any order and case, newest first, in this room only', async () => {
      const room = freshRoom();
      await append(room, { text: 'The quick brown fox' });
      await append(room, { text: 'a lazy dog' });
      await append(room, { text: 'FOX, quick! (again)' });
      await append(room, { text: 'quickly foxes' });
      await append(freshRoom(), { text: 'quick fox elsewhere' });
      expect(texts(await search(room, 'fox quick'))).toEqual([
        'FOX, quick! (again)',
        'The quick brown fox',
      ]);
      expect(texts(await search(room, 'QUICK   fox!'))).toEqual([
        'FOX, quick! (again)',
        'The quick brown fox',
      ]);
      expect(texts(await search(room, 'fox quick', 3))).toEqual(['The quick brown fox']);
      expect(texts(await search(room, 'fox', Number.MAX_SAFE_INTEGER, 1))).toEqual([
        'FOX, quick! (again)',
      ]);
      expect(await search(room, 'cat')).toEqual([]);
      expect(await search(room, 'fox cat')).toEqual([]);
      expect(await search(room, 'fox', 1)).toEqual([]);
    });

    test('search splits words alike on both stores: punctuation, digits, accents, other scripts', async () => {
      const room = freshRoom();
      await append(room, { text: 'Café-au-lait at 10:30, e-mail bob@example.com' });
      await append(room, { text: '北京 欢迎 你 ÉCOLE x_y v2.0' });
      expect(texts(await search(room, 'café lait'))).toHaveLength(1);
      expect(await search(room, 'cafe')).toEqual([]); // accents are not folded
      expect(texts(await search(room, '30 10 example bob'))).toHaveLength(1);
      expect(texts(await search(room, 'école 北京'))).toHaveLength(1);
      expect(texts(await search(room, 'y x 0 v2'))).toHaveLength(1);
    });

    test('search of a long room finds old matches below many newer messages, newest first, across pages', async () => {
      // A store without the outbox (1,500 message.created events would swamp the webhook test's drain).
      const quiet = harness.open({ outbox: false });
      await quiet.store.init();
      const room = freshRoom();
      const texts = Array.from({ length: 1500 }, (_, i) =>
        i + 1 <= 3 || i + 1 === 700 || i + 1 === 1450 ? `needle ${i + 1}` : `hay ${i + 1}`,
      );
      let stored: StoredMessage[];
      try {
        // Appends in flight together: their seqs follow the commits, so the needles' seqs are read back.
        const results = await Promise.all(
          texts.map((text) => quiet.store.append({ room, userId: 'u1', text })),
        );
        stored = results.map((r) => r.message);
      } finally {
        await quiet.store.close();
      }
      const needles = stored
        .filter((m) => m.text.startsWith('needle'))
        .map((m) => m.seq)
        .sort((a, b) => b - a);
      expect(needles.filter((seq) => seq < 1500 - 1000)).not.toHaveLength(0); // below the newest 1,000
      const seqsOf = (ms: StoredMessage[]) => ms.map((m) => m.seq);
      expect(seqsOf(await search(room, 'needle'))).toEqual(needles);
      expect(seqsOf(await search(room, 'needle', Number.MAX_SAFE_INTEGER, 2))).toEqual(
        needles.slice(0, 2),
      );
      expect(seqsOf(await search(room, 'needle', needles[1], 2))).toEqual(needles.slice(2, 4));
      expect(seqsOf(await search(room, 'needle', needles[0]))).toEqual(needles.slice(1));
    }, 30_000);

    test('search never finds a deleted message and finds an edited one by its new text only', async () => {
      const room = freshRoom();
      await append(room, { text: 'alpha beta' });
      await append(room, { text: 'alpha gamma' });
      await edits.delete(room, 1, 'u1');
      expect(texts(await search(room, 'alpha'))).toEqual(['alpha gamma']);
      expect(await search(room, 'beta')).toEqual([]);
      await edits.edit(room, 2, { text: 'delta epsilon', editedAt: Date.now() });
      expect(await search(room, 'gamma')).toEqual([]);
      expect(await search(room, 'alpha')).toEqual([]);
      expect(texts(await search(room, 'epsilon delta'))).toEqual(['delta epsilon']);
    });

    test('each change writes its webhook event in its transaction; a change that does not happen writes none', async () => {
      const room = freshRoom();
      await append(room);
      await events('message.created', room); // drain
      const edited = await edits.edit(room, 1, { text: 'new', editedAt: 5 });
      expect(await events('message.updated', room)).toEqual([{ message: edited }]);
      await edits.react(room, 1, { reaction: 'x', userId: 'a', on: true, ts: 1 });
      await edits.react(room, 1, { reaction: 'x', userId: 'a', on: true, ts: 2 });
      expect(await events('message.reacted', room)).toEqual([
        { room, seq: 1, reaction: 'x', userId: 'a', on: true, count: 1 },
      ]);
      await edits.delete(room, 1, 'mod');
      await edits.delete(room, 1, 'mod');
      expect(await events('message.deleted', room)).toEqual([
        { room, seq: 1, userId: 'u1', by: 'mod' },
      ]);
      await edits.edit(room, 1, { text: 'no', editedAt: 6 });
      expect(await events('message.updated', room)).toEqual([]);
    });
  });
}
