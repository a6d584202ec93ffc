/**
 * Behavioural suite every MessageStore implementation must pass. Not a spec
 * file itself: the backend specs call describeMessageStore().
 */
import type { MessageStore, NewMessage, StoredMessage } from './message-store';

export interface StoreHarness {
  /** A NEW, un-initialised store on this harness's backing storage (same file / schema every call). */
  open(): MessageStore;
  /** Deletes the backing storage; every opened store is already closed. */
  destroy(): Promise<void>;
}

export function describeMessageStore(
  name: string,
  factory: () => StoreHarness | Promise<StoreHarness>,
): void {
  describe(`${name} (MessageStore contract)`, () => {
    let harness: StoreHarness;
    let store: MessageStore;
    const opened: MessageStore[] = [];
    let roomCounter = 0;
    /** Each test writes to its own rooms, so tests share one store. */
    const freshRoom = () => `room-${++roomCounter}-${Math.random().toString(36).slice(2, 8)}`;

    async function openStore(): Promise<MessageStore> {
      const s = harness.open();
      opened.push(s);
      await s.init();
      return s;
    }
    const msg = (room: string, extra: Partial<NewMessage> = {}): NewMessage => ({
      room,
      userId: 'u1',
      text: 'hello',
      ...extra,
    });
    const seqs = (ms: StoredMessage[]) => ms.map((m) => m.seq);
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => from + i);
    async function fill(room: string, n: number): Promise<void> {
      for (let i = 1; i <= n; i++) await store.append(msg(room, { text: `m${i}` }));
    }

    beforeAll(async () => {
      harness = await factory();
      store = await openStore();
    });
    afterAll(async () => {
      for (const s of opened) await s.close();
      await harness?.destroy();
    });

    test('append returns the stored message with uuid id, seq 1, timestamp and no unset optional fields', async () => {
      const room = freshRoom();
      const before = Date.now();
      const { message, duplicate } = await store.append(msg(room));
      expect(duplicate).toBe(false);
      expect(message.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(message).toEqual({
        id: message.id,
        room,
        seq: 1,
        userId: 'u1',
        text: 'hello',
        ts: message.ts,
      });
      expect(typeof message.ts).toBe('number');
      expect(message.ts).toBeGreaterThanOrEqual(before);
      expect(message.ts).toBeLessThanOrEqual(Date.now());
      expect('name' in message).toBe(false);
      expect('clientMsgId' in message).toBe(false);
      const [read] = await store.history({ room, limit: 10 });
      expect(read).toEqual(message);
      expect('name' in read).toBe(false);
    });

    test('name and clientMsgId round-trip through history', async () => {
      const room = freshRoom();
      const { message } = await store.append(msg(room, { name: 'Ann', clientMsgId: 'c-1' }));
      expect(message).toMatchObject({ name: 'Ann', clientMsgId: 'c-1' });
      expect(await store.history({ room, limit: 10 })).toEqual([message]);
    });

    test('sequential appends get gapless seq 1..n per room, independent across rooms', async () => {
      const a = freshRoom();
      const b = freshRoom();
      const got: number[] = [];
      for (let i = 0; i < 5; i++) got.push((await store.append(msg(a))).message.seq);
      const inB = await store.append(msg(b));
      expect(got).toEqual([1, 2, 3, 4, 5]);
      expect(inB.message.seq).toBe(1);
    });

    test('200 concurrent appends across 5 rooms give each room unique, gapless seq 1..k', async () => {
      const rooms = Array.from({ length: 5 }, freshRoom);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.append(msg(rooms[i % 5], { userId: `u${i % 7}`, text: `t${i}` })),
        ),
      );
      for (const room of rooms) {
        const returned = results.filter((r) => r.message.room === room).map((r) => r.message.seq);
        expect([...returned].sort((x, y) => x - y)).toEqual(range(1, 40));
        expect(seqs(await store.history({ room, limit: 1000 }))).toEqual(range(1, 40));
        expect(await store.lastSeq(room)).toBe(40);
      }
    });

    test('same (room, user, clientMsgId) returns the original with duplicate=true and stores nothing new', async () => {
      const room = freshRoom();
      const first = await store.append(msg(room, { clientMsgId: 'x', text: 'original' }));
      const again = await store.append(msg(room, { clientMsgId: 'x', text: 'retry' }));
      expect(again).toEqual({ message: first.message, duplicate: true });
      expect(await store.lastSeq(room)).toBe(1);
      expect(await store.history({ room, limit: 10 })).toEqual([first.message]);
    });

    test('same clientMsgId from a different user, or in a different room, is a new message', async () => {
      const room = freshRoom();
      const a = await store.append(msg(room, { userId: 'alice', clientMsgId: 'x' }));
      const b = await store.append(msg(room, { userId: 'bob', clientMsgId: 'x' }));
      const c = await store.append(msg(freshRoom(), { userId: 'alice', clientMsgId: 'x' }));
      expect(b.duplicate).toBe(false);
      expect(c.duplicate).toBe(false);
      expect(b.message.id).not.toBe(a.message.id);
      expect(b.message.seq).toBe(2);
    });

    test('concurrent appends of one clientMsgId store a single message and leave no seq gap', async () => {
      const room = freshRoom();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.append(msg(room, { clientMsgId: 'dup', text: `try${i}` })),
        ),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(await store.lastSeq(room)).toBe(1);
      expect((await store.append(msg(room))).message.seq).toBe(2);
    });

    test('messages without clientMsgId are never deduplicated', async () => {
      const room = freshRoom();
      await store.append(msg(room));
      const second = await store.append(msg(room));
      expect(second.duplicate).toBe(false);
      expect(second.message.seq).toBe(2);
    });

    test('history with neither bound returns the newest `limit` messages ascending', async () => {
      const room = freshRoom();
      await fill(room, 10);
      const page = await store.history({ room, limit: 3 });
      expect(seqs(page)).toEqual([8, 9, 10]);
      expect(page.map((m) => m.text)).toEqual(['m8', 'm9', 'm10']);
    });

    test('history before=n returns the newest `limit` messages with seq < n, ascending', async () => {
      const room = freshRoom();
      await fill(room, 10);
      expect(seqs(await store.history({ room, before: 8, limit: 3 }))).toEqual([5, 6, 7]);
      expect(seqs(await store.history({ room, before: 3, limit: 5 }))).toEqual([1, 2]);
      expect(await store.history({ room, before: 1, limit: 5 })).toEqual([]);
    });

    test('history after=n returns the oldest `limit` messages with seq > n, ascending', async () => {
      const room = freshRoom();
      await fill(room, 10);
      expect(seqs(await store.history({ room, after: 2, limit: 3 }))).toEqual([3, 4, 5]);
      expect(seqs(await store.history({ room, after: 8, limit: 5 }))).toEqual([9, 10]);
      expect(await store.history({ room, after: 10, limit: 5 })).toEqual([]);
    });

    test('history with before and after returns seq strictly between them, oldest first, up to limit', async () => {
      const room = freshRoom();
      await fill(room, 10);
      expect(seqs(await store.history({ room, after: 2, before: 9, limit: 100 }))).toEqual(
        range(3, 8),
      );
      expect(seqs(await store.history({ room, after: 2, before: 9, limit: 2 }))).toEqual([3, 4]);
    });

    test('history of an unknown room, or with limit 0, is empty', async () => {
      const room = freshRoom();
      await fill(room, 2);
      expect(await store.history({ room: freshRoom(), limit: 10 })).toEqual([]);
      expect(await store.history({ room, limit: 0 })).toEqual([]);
    });

    test('lastSeq is 0 for an empty room and the highest seq otherwise', async () => {
      const room = freshRoom();
      expect(await store.lastSeq(room)).toBe(0);
      await fill(room, 3);
      expect(await store.lastSeq(room)).toBe(3);
    });

    test('firstSeq is 1 for a room never written and the oldest stored seq otherwise', async () => {
      const room = freshRoom();
      expect(await store.firstSeq(room)).toBe(1);
      await fill(room, 3);
      expect(await store.firstSeq(room)).toBe(1);
    });

    test('append rejects malformed input without affecting other appends', async () => {
      const room = freshRoom();
      const bad = store.append({ room, userId: 'u1', text: undefined } as unknown as NewMessage);
      const good = store.append(msg(room));
      await expect(bad).rejects.toThrow(/text/);
      expect((await good).message.seq).toBe(1);
    });

    // Group commit: appends made together share transactions. These hold every backend to the same outcome.

    test('a burst across 20 rooms resolves only once committed: a second instance reads every message at once', async () => {
      const rooms = Array.from({ length: 20 }, freshRoom);
      const reader = await openStore();
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          store.append(msg(rooms[i % 20], { userId: `u${i % 3}`, text: `t${i}` })),
        ),
      );
      for (const room of rooms) {
        const mine = results.filter((r) => r.message.room === room).map((r) => r.message);
        expect(await reader.history({ room, limit: 100 })).toEqual(
          [...mine].sort((x, y) => x.seq - y.seq),
        );
        expect(seqs(mine).sort((x, y) => x - y)).toEqual(range(1, 5));
      }
    });

    test('clientMsgId repeats inside one burst return the first one to every repeat, per (room, user)', async () => {
      const [a, b] = [freshRoom(), freshRoom()];
      const sends: NewMessage[] = [
        msg(a, { clientMsgId: 'k', text: 'first' }),
        msg(a, { text: 'no key' }),
        msg(a, { clientMsgId: 'k', text: 'repeat 1' }),
        msg(a, { userId: 'u2', clientMsgId: 'k', text: 'other user' }),
        msg(b, { clientMsgId: 'k', text: 'other room' }),
        msg(a, { clientMsgId: 'k', text: 'repeat 2' }),
        msg(b, { clientMsgId: 'k', text: 'other room repeat' }),
      ];
      const r = await Promise.all(sends.map((m) => store.append(m)));
      expect(r.map((x) => x.duplicate)).toEqual([false, false, true, false, false, true, true]);
      expect(r[2].message).toEqual(r[0].message);
      expect(r[5].message).toEqual(r[0].message);
      expect(r[6].message).toEqual(r[4].message);
      expect(r[0].message.text).toBe('first');
      expect(seqs(await store.history({ room: a, limit: 10 }))).toEqual([1, 2, 3]);
      expect(seqs(await store.history({ room: b, limit: 10 }))).toEqual([1]);
    });

    test('clientMsgId repeats in a later burst, even from another instance, return the original', async () => {
      const room = freshRoom();
      const other = await openStore();
      const first = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.append(msg(room, { clientMsgId: `c${i}` }))),
      );
      const again = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? store : other).append(msg(room, { clientMsgId: `c${i}`, text: 'retry' })),
        ),
      );
      again.slice(0, 10).forEach((r, i) => expect(r).toEqual({ ...first[i], duplicate: true }));
      expect(again.slice(10).every((r) => !r.duplicate)).toBe(true);
      expect(seqs(await store.history({ room, limit: 100 }))).toEqual(range(1, 20));
    });

    test('malformed appends inside a burst fail alone: every neighbour in every room commits, gapless', async () => {
      const rooms = [freshRoom(), freshRoom(), freshRoom()];
      const bad = [
        { room: rooms[0], userId: 'u1' },
        { room: 42, userId: 'u1', text: 'x' },
        { room: rooms[1], userId: null, text: 'x' },
        { room: rooms[2], userId: 'u1', text: 'x', clientMsgId: 7 },
      ] as unknown as NewMessage[];
      const calls = Array.from({ length: 60 }, (_, i) =>
        i % 15 === 7
          ? store.append(bad[Math.floor(i / 15)])
          : store.append(msg(rooms[i % 3], { text: `t${i}` })),
      );
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(4);
      // The bad calls sit at i = 7, 22, 37, 52, all with i % 3 = 1: room 1 gets 16 messages, the others 20.
      expect(seqs(await store.history({ room: rooms[0], limit: 100 }))).toEqual(range(1, 20));
      expect(seqs(await store.history({ room: rooms[1], limit: 100 }))).toEqual(range(1, 16));
      expect(seqs(await store.history({ room: rooms[2], limit: 100 }))).toEqual(range(1, 20));
    });

    test('a burst of 1000 appends to one room (more than one batch holds) commits every one, gapless', async () => {
      const room = freshRoom();
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => store.append(msg(room, { text: `t${i}` }))),
      );
      expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(range(1, 1000));
      expect(await store.lastSeq(room)).toBe(1000);
    });

    test('ping resolves while the store is open', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    test('close() commits appends still pending, and data persists across reopen', async () => {
      const room = freshRoom();
      const s1 = await openStore();
      await s1.append(msg(room, { text: 'a', clientMsgId: 'k' }));
      const pending = [s1.append(msg(room, { text: 'b' })), s1.append(msg(room, { text: 'c' }))];
      await s1.close(); // not awaiting `pending` first: close must flush them
      await expect(Promise.all(pending)).resolves.toHaveLength(2);

      const s2 = await openStore();
      const all = await s2.history({ room, limit: 10 });
      expect(all.map((m) => [m.seq, m.text])).toEqual([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      expect(await s2.lastSeq(room)).toBe(3);
      // idempotency keys and seq counters survive the reopen too
      expect((await s2.append(msg(room, { clientMsgId: 'k' }))).duplicate).toBe(true);
      expect((await s2.append(msg(room))).message.seq).toBe(4);
    });

    test('append after close() rejects', async () => {
      const s = await openStore();
      await s.close();
      await expect(s.append(msg(freshRoom()))).rejects.toThrow();
    });

    test('init() is idempotent: a second instance on migrated storage starts and sees existing data', async () => {
      const room = freshRoom();
      await store.append(msg(room));
      const again = await openStore();
      expect(await again.lastSeq(room)).toBe(1);
    });

    test('two instances on the same storage appending concurrently to one room stay gapless', async () => {
      const room = freshRoom();
      const other = await openStore();
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? store : other).append(msg(room, { text: `t${i}` })),
        ),
      );
      expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(range(1, 100));
      expect(seqs(await store.history({ room, limit: 1000 }))).toEqual(range(1, 100));
    });
  });
}
