/**
 * Behavioural suite every WebhookOutbox implementation must pass. Not a spec file itself: the backend specs
 * call describeWebhookOutbox(). Every test gets fresh storage, so no event leaks from one test to another.
 */
import { randomUUID } from 'node:crypto';
import type { MessageStore } from './message-store';
import type { ClaimedWebhook, WebhookEvent, WebhookOutbox } from './webhook-outbox';

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
  });
}
