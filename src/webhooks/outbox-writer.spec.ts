import { randomUUID } from 'node:crypto';
import { captureLogs } from '../../test/support/log-capture';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { OutboxWriter } from './outbox-writer';
import { queuedEvent } from './webhook-lanes';

describe('OutboxWriter', () => {
  let store: SqliteMessageStore;
  beforeEach(async () => {
    store = new SqliteMessageStore({ path: ':memory:', outbox: true });
    await store.init();
  });
  afterEach(() => store.close());

  const occupied = (room: string, ts: number) =>
    queuedEvent({ type: 'room.occupied', data: { room } }, randomUUID(), ts);
  const vacated = (room: string, ts: number) =>
    queuedEvent({ type: 'room.vacated', data: { room } }, randomUUID(), ts);

  test('past the bound it sheds openings and their closings, never a closing whose opening was written; with a count and a log line', async () => {
    const writer = new OutboxWriter(store, 3);
    const logs = captureLogs();
    try {
      for (let i = 0; i < 6; i++) await writer.write([occupied(`r${i}`, 1000 + i)]);
      for (let i = 0; i < 6; i++) await writer.write([vacated(`r${i}`, 2000 + i)]);
    } finally {
      logs.restore();
    }
    expect(writer.shed).toEqual({ 'room.occupied': 3, 'room.vacated': 3 });
    const rooms: string[] = [];
    for (;;) {
      const batch = await store.claimWebhooks(100, 60_000);
      if (batch.length === 0) break;
      for (const e of batch) {
        rooms.push(`${e.type} ${(e.data as { room: string }).room}`);
        await store.completeWebhook(e.id);
      }
    }
    expect(rooms.sort()).toEqual(
      ['r0', 'r1', 'r2'].flatMap((r) => [`room.occupied ${r}`, `room.vacated ${r}`]).sort(),
    );
    expect(logs.lines.join('')).toMatch(/webhook outbox full .*WEBHOOK_OUTBOX_MAX_EVENTS=3.*shed/);
  });

  test('writes in the order of the calls, and a quick return drops out with its leave', async () => {
    const writer = new OutboxWriter(store, 100);
    const now = Date.now();
    await Promise.all([
      writer.write([occupied('a', now)]),
      writer.write([vacated('a', now + 1)]),
      writer.write([occupied('a', now + 2)]), // within the second: drops out with the vacated
    ]);
    expect(writer.coalesced).toBe(2);
    expect(await store.countWebhooks()).toBe(1);
  });
});
