/**
 * Webhooks through a PostgreSQL outage (issue 20.2, 20.5): an outbox write that fails is kept and retried, the
 * event is delivered once the store is back, exactly once, and its `ts` is when it happened, not when it was
 * finally written.
 */
import { randomBytes } from 'node:crypto';
import { WebhookOutbox } from '../../src/store/webhook-outbox';
import { WebhookService } from '../../src/webhooks/webhook.service';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';
import { Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';
import { pgQuery } from '../support/pg-query';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const postgres = servicesGate('postgres');

postgres.describe('webhooks through a PostgreSQL outage', () => {
  const schema = `hubbub_wh_faults_${randomBytes(4).toString('hex')}`;
  const sql = (text: string) => pgQuery(postgres.url, text);
  beforeAll(() => sql(`CREATE SCHEMA "${schema}"`));
  afterAll(() => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  let receiver: Receiver;
  let server: TestServer | undefined;
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await proxy?.close();
    proxy = undefined;
    await receiver.stop();
  });

  test('presence.left and room.vacated written during the cut are delivered after it, once, with the time of the leave', async () => {
    receiver = await Receiver.start();
    const target = new URL(postgres.url);
    // In front of PostgreSQL: cut() drops every connection and accepts none until restore().
    proxy = await TcpProxy.start(Number(target.port || 5432), target.hostname);
    const url = new URL(postgres.url);
    url.port = String(proxy.port);
    url.hostname = '127.0.0.1';
    url.searchParams.set('options', `-c search_path=${schema}`);
    server = await startServer({
      DATABASE_URL: url.toString(),
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
    });
    const room = `outage-${rid()}`;
    const alice = await TestClient.connect(server.wsUrl, await server.token('alice'));
    await alice.call('chat.join', { room });
    await receiver.next('presence.joined', (d) => d.userId === 'alice');
    await receiver.next('room.occupied', (d) => d.room === room);
    // Delivered and completed (removed from the outbox) before the cut.
    const outbox = server.app.get(WebhookOutbox);
    while ((await outbox.countWebhooks()) > 0) await new Promise((r) => setTimeout(r, 20));

    proxy.cut();
    const leftAt = Date.now();
    await alice.close();
    const webhooks = server.app.get(WebhookService);
    // The write failed and was kept (before the fix it was logged and gone).
    for (const deadline = Date.now() + 10_000; webhooks.unwritten === 0;) {
      if (Date.now() > deadline) throw new Error('the outbox write never failed');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The leave happened before the failed write was seen: restore on a later millisecond, so that a `ts` taken at
    // the (later) write time cannot pass for the leave's.
    const failedAt = Date.now();
    while (Date.now() === failedAt) await new Promise((r) => setImmediate(r));
    const restoredAt = Date.now();
    proxy.restore();

    const left = await receiver.next('presence.left', (d) => d.userId === 'alice', 40_000);
    const vacated = await receiver.next('room.vacated', (d) => d.room === room, 40_000);
    for (const d of [left, vacated]) {
      expect(d.body.ts).toBeGreaterThanOrEqual(leftAt);
      expect(d.body.ts).toBeLessThan(restoredAt); // when it happened, not when it was written
    }
    // Later events of the same user and room come after any repeat would have: each event came once.
    const again = await TestClient.connect(server.wsUrl, await server.token('alice'));
    await again.call('chat.join', { room });
    await again.close();
    await receiver.until((all) => all.length >= 8, 'the second join and leave');
    await receiver.until(() => receiver.of('room.vacated').length === 2, 'the second vacated');
    const counts: Record<string, number> = {};
    for (const d of receiver.deliveries) counts[d.body.type] = (counts[d.body.type] ?? 0) + 1;
    expect(counts).toEqual({
      'room.occupied': 2,
      'presence.joined': 2,
      'presence.left': 2,
      'room.vacated': 2,
    });
    expect(new Set(receiver.deliveries.map((d) => d.body.id)).size).toBe(8);
    expect(webhooks.unwritten).toBe(0);
  }, 90_000);
});
