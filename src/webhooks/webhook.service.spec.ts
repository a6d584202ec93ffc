import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubbubConfig } from '../config/config';
import type { ClaimedWebhook, WebhookEvent, WebhookOutbox } from '../store/webhook-outbox';
import { Webhook } from 'standardwebhooks';
import { retryDelayMs, standardWebhookHeaders, WebhookService } from './webhook.service';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** In-memory outbox recording what the dispatcher does with each event. */
class FakeOutbox implements WebhookOutbox {
  events: (WebhookEvent & { attempts: number; due: number; leased: boolean })[] = [];
  completed: string[] = [];
  retried: { id: string; at: number }[] = [];
  private listener = () => {};
  onEnqueue(listener: () => void): void {
    this.listener = listener;
  }
  enqueue(events: WebhookEvent[]): Promise<number> {
    this.events.push(
      ...events.map(({ id, type, ts, data }) => ({
        ...{ id, type, ts, data },
        ...{ attempts: 0, due: 0, leased: false },
      })),
    );
    this.listener();
    return Promise.resolve(0);
  }
  countWebhooks(): Promise<number> {
    return Promise.resolve(this.events.length);
  }
  claimWebhooks(limit: number): Promise<ClaimedWebhook[]> {
    const due = this.events.filter((e) => !e.leased && e.due <= Date.now()).slice(0, limit);
    for (const e of due) Object.assign(e, { leased: true, attempts: e.attempts + 1 });
    return Promise.resolve(
      due.map(({ id, type, ts, data, attempts }) => ({ id, type, ts, data, attempts })),
    );
  }
  completeWebhook(id: string): Promise<void> {
    this.completed.push(id);
    this.events = this.events.filter((e) => e.id !== id);
    return Promise.resolve();
  }
  retryWebhook(id: string, at: number): Promise<void> {
    this.retried.push({ id, at });
    for (const e of this.events) if (e.id === id) Object.assign(e, { leased: false, due: at });
    return Promise.resolve();
  }
}

describe('WebhookService', () => {
  test('retry delays double from 1 s and stop at 5 min', () => {
    expect([1, 2, 3, 4, 9].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 256_000]);
    expect(retryDelayMs(10)).toBe(300_000);
    expect(retryDelayMs(10_000)).toBe(300_000);
  });

  test('the signature is v1, then the base64 HMAC-SHA256 of "id.timestamp.body" keyed with the decoded secret', () => {
    const at = new Date(1_767_225_600_123);
    const headers = standardWebhookHeaders(new Webhook(SECRET), 'msg_1', '{"a":1}', at);
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key).update('msg_1.1767225600.{"a":1}').digest('base64');
    expect(headers).toEqual({
      'webhook-id': 'msg_1',
      'webhook-timestamp': '1767225600',
      'webhook-signature': `v1,${mac}`,
    });
  });

  test('emit is a no-op without WEBHOOK_URL', async () => {
    const outbox = new FakeOutbox();
    const service = new WebhookService({} as HubbubConfig, outbox);
    await service.emit('room.occupied', { room: 'r' });
    expect(outbox.events).toEqual([]);
  });

  describe('dispatcher', () => {
    let receiver: Server;
    let url: string;
    let onRequest: (
      body: string,
      answer: (status: number) => void,
      headers: IncomingHttpHeaders,
    ) => void;

    beforeEach(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => onRequest(body, (status) => res.writeHead(status).end(), req.headers));
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    });
    afterEach(async () => {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    });

    const start = (outbox: FakeOutbox) => {
      const service = new WebhookService(
        { webhookUrl: url, webhookSecret: SECRET } as HubbubConfig,
        outbox,
      );
      service.onApplicationBootstrap();
      return service;
    };

    test('a 2xx completes the event, delivered with Standard Webhooks headers that verify', async () => {
      const outbox = new FakeOutbox();
      const got = new Promise<{ raw: string; headers: IncomingHttpHeaders }>(
        (resolve) =>
          (onRequest = (raw, answer, headers) => (answer(204), resolve({ raw, headers }))),
      );
      const service = start(outbox);
      await service.emit('presence.left', { room: 'r', userId: 'u' });
      const { raw, headers } = await got;
      const body = new Webhook(SECRET).verify(raw, headers as Record<string, string>) as {
        id: string;
      };
      expect(headers['webhook-id']).toBe(body.id);
      expect(body).toEqual({
        id: expect.any(String),
        type: 'presence.left',
        ts: expect.any(Number),
        data: { room: 'r', userId: 'u' },
      });
      while (outbox.completed.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(outbox.completed).toEqual([body.id]);
      await service.onModuleDestroy();
    });

    test('each attempt is counted by outcome: rejected (non-2xx), failed (no answer), delivered', async () => {
      // Retries due at once instead of after 1 s, 2 s of backoff.
      const outbox = new (class extends FakeOutbox {
        override retryWebhook(id: string): Promise<void> {
          return super.retryWebhook(id, 0);
        }
      })();
      const statuses = [500, 0, 200]; // 0: the receiver drops the connection without answering
      onRequest = (_body, answer) => {
        const status = statuses.shift()!;
        if (status === 0) receiver.closeAllConnections();
        else answer(status);
      };
      const service = start(outbox);
      await service.emit('room.occupied', { room: 'r' });
      while (outbox.completed.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(service.attempts.rejected).toBe(1);
      expect(service.attempts.failed).toBe(1);
      expect(service.attempts.delivered).toBe(1);
      await service.onModuleDestroy();
    });

    test('shutdown cuts an in-flight request short and hands the event back, due at once, not counted as failed', async () => {
      const outbox = new FakeOutbox();
      const arrived = new Promise<void>((resolve) => (onRequest = () => resolve())); // never answers
      const service = start(outbox);
      await service.emit('room.vacated', { room: 'r' });
      await arrived;
      const before = Date.now();
      await service.onModuleDestroy();
      expect(Date.now() - before).toBeLessThan(1000);
      expect(outbox.completed).toEqual([]);
      expect(outbox.retried).toEqual([{ id: outbox.events[0].id, at: expect.any(Number) }]);
      expect(outbox.retried[0].at).toBeLessThanOrEqual(Date.now());
      expect(service.attempts.failed).toBe(0);
    });
  });
});
