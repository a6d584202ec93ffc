/**
 * Behavioural suite every WebhookOutbox implementation must pass. Not a spec file itself: the backend specs
 * call describeWebhookOutbox(). Every test gets fresh storage, so no event leaks from one test to another.
 */
import { randomUUID } from 'node:crypto';
import type { MessageStore } from './message-store';
import type { ClaimedWebhook, OutboxEvent, WebhookEvent, WebhookOutbox } from './webhook-outbox';

type Store = MessageStore & WebhookOutbox;

export interface OutboxHarness {
  /** A NEW, un-initialised store on this harness's storage (same file / schema every call). */
  open(opts: { outbox: boolean }): Store;
  /** Deletes the storage; every opened store is already closed. */
  destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeWebhookOutbox(
  name: string,
  factory: () => OutboxHarness | Promise<OutboxHarness>,
): void {
  describe(`${name} (WebhookOutbox contract)`, () => {
    let harness: OutboxHarness;
    let opened: Store[];

    async function open(outbox = true): Promise<Store> {
      const s = harness.open({ outbox });
      opened.push(s);
      await s.init();
      return s;
    }
    const event = (ts: number, data: unknown = { room: 'r', n: ts }): WebhookEvent => ({
      id: randomUUID(),
      type: 'room.occupied',
      ts,
      data,
    });
    /** Claims (and completes) until nothing is due; returns every claimed event. */
    async function drain(s: Store, limit: number): Promise<ClaimedWebhook[]> {
      const all: ClaimedWebhook[] = [];
      for (;;) {
        const batch = await s.claimWebhooks(limit, 60_000);
        if (batch.length === 0) return all;
        all.push(...batch);
        await Promise.all(batch.map((e) => s.completeWebhook(e.id)));
      }
    }

    beforeEach(async () => {
      harness = await factory();
      opened = [];
    });
    afterEach(async () => {
      for (const s of opened) await s.close();
      await harness.destroy();
    });

    test('enqueued events are claimed once with their data, oldest first, up to the limit', async () => {
      const s = await open();
      const events = [event(3000), event(1000, { nested: { a: [1, 'two', null] } }), event(2000)];
      await s.enqueue(events);
      const first = await s.claimWebhooks(2, 60_000);
      expect(first).toEqual([
        { ...events[1], attempts: 1 },
        { ...events[2], attempts: 1 },
      ]);
      expect(await s.claimWebhooks(10, 60_000)).toEqual([{ ...events[0], attempts: 1 }]);
      expect(await s.claimWebhooks(10, 60_000)).toEqual([]); // all leased
    });

    test('enqueueing an id already in the outbox is a no-op: in one call, in a later one, from another instance', async () => {
      const s = await open();
      const other = await open();
      const e = event(1000);
      await s.enqueue([e, { ...e, data: { repeat: 1 } }, event(2000)]);
      await other.enqueue([{ ...e, data: { repeat: 2 } }]);
      await s.enqueue([{ ...e, ts: 5 }]);
      const claimed = await drain(s, 10);
      expect(claimed.filter((c) => c.id === e.id)).toEqual([{ ...e, attempts: 1 }]);
      expect(claimed).toHaveLength(2);
    });

    test('a completed event is gone; an expired lease makes an unfinished one claimable again', async () => {
      const s = await open();
      const [done, crashed] = [event(1000), event(2000)];
      await s.enqueue([done, crashed]);
      expect((await s.claimWebhooks(10, 50)).map((e) => e.id)).toEqual([done.id, crashed.id]);
      await s.completeWebhook(done.id);
      expect(await s.claimWebhooks(10, 50)).toEqual([]);
      await sleep(80);
      expect(await s.claimWebhooks(10, 50)).toEqual([{ ...crashed, attempts: 2 }]);
    });

    test('retryWebhook releases the lease and delays the next attempt', async () => {
      const s = await open();
      const e = event(1000);
      await s.enqueue([e]);
      await s.claimWebhooks(1, 60_000);
      await s.retryWebhook(e.id, Date.now() + 60_000);
      expect(await s.claimWebhooks(1, 60_000)).toEqual([]);
      await s.retryWebhook(e.id, Date.now() - 1);
      expect(await s.claimWebhooks(1, 60_000)).toEqual([{ ...e, attempts: 2 }]);
    });

    test('with outbox on, a new message writes message.created in its transaction; a duplicate does not', async () => {
      const s = await open(true);
      const { message } = await s.append({ room: 'r', userId: 'u', text: 'hi', clientMsgId: 'c' });
      const again = await s.append({ room: 'r', userId: 'u', text: 'hi', clientMsgId: 'c' });
      expect(again.duplicate).toBe(true);
      const claimed = await s.claimWebhooks(10, 60_000);
      expect(claimed).toHaveLength(1);
      const [{ id, ...rest }] = claimed;
      expect(rest).toEqual({ type: 'message.created', ts: message.ts, data: message, attempts: 1 });
      expect(id).not.toBe(message.id); // the event has its own id
    });

    test('onEnqueue listeners hear of each commit that added events, after it', async () => {
      const s = await open(true);
      let calls = 0;
      s.onEnqueue(() => calls++);
      await s.append({ room: 'r', userId: 'u', text: 'hi' });
      expect(calls).toBe(1);
      await s.enqueue([event(1000)]);
      expect(calls).toBe(2);
      const off = await open(false);
      off.onEnqueue(() => calls++);
      await off.append({ room: 'r', userId: 'u', text: 'no event' });
      expect(calls).toBe(2);
    });

    test('with outbox off, appends write no event', async () => {
      const s = await open(false);
      await s.append({ room: 'r', userId: 'u', text: 'hi' });
      expect(await s.claimWebhooks(10, 60_000)).toEqual([]);
    });

    test('events survive a close and reopen', async () => {
      const s1 = await open();
      const e = event(1000);
      const pending = s1.enqueue([e]);
      await s1.close(); // not awaiting the enqueue first: close must flush it
      await pending;
      const s2 = await open();
      expect(await s2.claimWebhooks(10, 60_000)).toEqual([{ ...e, attempts: 1 }]);
    });

    test('enqueue rejects data that is not JSON without touching other writes', async () => {
      const s = await open();
      const bad = s.enqueue([{ ...event(1000), data: undefined }]);
      const good = s.enqueue([event(2000)]);
      await expect(bad).rejects.toThrow(/serialisable/);
      await good;
      expect(await s.claimWebhooks(10, 60_000)).toHaveLength(1);
    });

    test('two instances claiming concurrently never get the same event', async () => {
      const [a, b] = [await open(), await open()];
      const events = Array.from({ length: 200 }, (_, i) => event(1000 + i));
      await a.enqueue(events);
      const [fromA, fromB] = await Promise.all([drain(a, 7), drain(b, 7)]);
      const ids = [...fromA, ...fromB].map((e) => e.id);
      expect(ids).toHaveLength(200);
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
      expect([...fromA, ...fromB].every((e) => e.attempts === 1)).toBe(true);
    });

    describe('lanes', () => {
      const inLane = (lane: string, ts: number, type: WebhookEvent['type']): OutboxEvent => ({
        ...event(ts),
        type,
        lane,
      });
      const ids = (events: { id: string }[]) => events.map((e) => e.id);

      test('a lane gives one event at a time, in ts order; a claim serves every lane', async () => {
        const s = await open();
        const burst = Array.from({ length: 30 }, (_, i) => inLane('a', 1000 + i, 'room.occupied'));
        const other = inLane('b', 5000, 'room.occupied');
        await s.enqueue([...burst.slice(10), other, ...burst.slice(0, 10)]); // written out of ts order
        expect(ids(await s.claimWebhooks(5, 60_000))).toEqual([burst[0].id, other.id]);
        expect(await s.claimWebhooks(5, 60_000)).toEqual([]); // lane a waits for its event out
        await s.completeWebhook(burst[0].id);
        expect(ids(await s.claimWebhooks(5, 60_000))).toEqual([burst[1].id]);
        // A retry keeps the lane's order: nothing of lane a goes out before burst[1].
        await s.retryWebhook(burst[1].id, Date.now() + 60_000);
        expect(await s.claimWebhooks(5, 60_000)).toEqual([]);
        await s.retryWebhook(burst[1].id, Date.now() - 1);
        expect(ids(await s.claimWebhooks(5, 60_000))).toEqual([burst[1].id]);
        expect(await s.countWebhooks()).toBe(30);
      });

      test("message.created queues in its room's lane: one room's burst does not hold back another room", async () => {
        const s = await open(true);
        for (let i = 0; i < 5; i++) await s.append({ room: 'busy', userId: 'u', text: `m${i}` });
        const { message } = await s.append({ room: 'quiet', userId: 'v', text: 'hello' });
        const first = await s.claimWebhooks(10, 60_000);
        expect(first.map((e) => (e.data as { room: string }).room)).toEqual(['busy', 'quiet']);
        expect(first[1].data).toEqual(message);
        await s.completeWebhook(first[0].id);
        expect(((await s.claimWebhooks(10, 60_000))[0].data as { text: string }).text).toBe('m1');
      });

      test("an owner has one event out at a time: its burst over many lanes does not hold back another owner's", async () => {
        const s = await open();
        const burst = Array.from({ length: 40 }, (_, i) => ({
          ...inLane(`l${i}`, 1000 + i, 'room.occupied'),
          owner: 'flapper',
        }));
        const other = { ...inLane('x', 9000, 'room.occupied'), owner: 'bystander' };
        const own = inLane('y', 9500, 'room.occupied'); // its own owner: its lane
        await s.enqueue([...burst, other, own]);
        expect(ids(await s.claimWebhooks(8, 60_000))).toEqual([burst[0].id, other.id, own.id]);
        expect(await s.claimWebhooks(8, 60_000)).toEqual([]); // the flapper has one out
        await s.completeWebhook(burst[0].id);
        expect(ids(await s.claimWebhooks(8, 60_000))).toEqual([burst[1].id]);
      });

      test('holdMs delays the first attempt', async () => {
        const s = await open();
        const held = { ...inLane('h', Date.now(), 'presence.left'), holdMs: 60_000 };
        const now = inLane('n', Date.now(), 'presence.left');
        await s.enqueue([held, now]);
        expect(ids(await s.claimWebhooks(10, 60_000))).toEqual([now.id]);
        expect(await s.countWebhooks()).toBe(2);
      });

      test('coalescing drops a pair that is not out yet, within the window, and nothing else', async () => {
        const s = await open();
        const t = 10_000;
        const flap = (ts: number, type: WebhookEvent['type'], lane = 'p') => ({
          ...inLane(lane, ts, type),
          coalesceMs: 1000,
        });
        const joined = flap(t, 'presence.joined');
        expect(await s.enqueue([joined])).toBe(0);
        expect(await s.enqueue([flap(t + 10, 'presence.left')])).toBe(2); // the pair drops out
        expect(await s.countWebhooks()).toBe(0);
        // join, leave, join in one call: the last join stays.
        const batch = [t + 20, t + 30, t + 40].map((ts, i) =>
          flap(ts, i % 2 ? 'presence.left' : 'presence.joined'),
        );
        expect(await s.enqueue(batch)).toBe(2);
        expect(ids(await s.claimWebhooks(10, 60_000))).toEqual([batch[2].id]);
        // Out (leased): its partner is written.
        const left = flap(t + 50, 'presence.left');
        expect(await s.enqueue([left])).toBe(0);
        await s.completeWebhook(batch[2].id);
        // Attempted once (and failed): it may have reached the receiver, so it stays.
        expect(ids(await s.claimWebhooks(10, 60_000))).toEqual([left.id]);
        await s.retryWebhook(left.id, 0);
        expect(await s.enqueue([flap(t + 60, 'presence.joined')])).toBe(0);
        // Beyond the window, of the same type, or a repeat: written, nothing dropped.
        const far = [flap(t, 'room.occupied', 'r'), flap(t + 5000, 'room.vacated', 'r')];
        expect(await s.enqueue(far)).toBe(0);
        const same = [flap(t, 'room.occupied', 'q'), flap(t + 1, 'room.occupied', 'q')];
        expect(await s.enqueue(same)).toBe(0);
        expect(await s.countWebhooks()).toBe(2 + 2 + 2);
      });

      test('a repeat of an event already written is a no-op, never a partner', async () => {
        const s = await open();
        const occupied = { ...inLane('z', 1000, 'room.occupied'), coalesceMs: 1000 };
        const vacated = { ...inLane('z', 1001, 'room.vacated'), coalesceMs: 1000 };
        await s.enqueue([occupied]);
        await s.claimWebhooks(10, 60_000); // out: the vacated has no partner to drop
        expect(await s.enqueue([vacated])).toBe(0);
        expect(await s.enqueue([occupied])).toBe(0);
        expect(await s.enqueue([vacated])).toBe(0);
        expect(await s.countWebhooks()).toBe(2);
      });
    });
  });
}
