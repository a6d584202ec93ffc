import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { WebhookOutbox } from '../../src/store/webhook-outbox';
import { removeBuild, spawnServer } from '../support/child-server';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import { type Delivery, Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';
import { pgQuery } from '../support/pg-query';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Standard Webhooks: the package's own verifier accepts the delivery as sent (id, timestamp, signature). */
function expectSigned(d: Delivery): void {
  expect(new Webhook(SECRET).verify(d.raw, d.headers as Record<string, string>)).toEqual(d.body);
  expect(d.headers['webhook-id']).toBe(d.body.id);
  // Signed when sent: at most a second before it arrived.
  const signedAt = Number(d.headers['webhook-timestamp']);
  expect(signedAt).toBeLessThanOrEqual(Math.floor(d.at / 1000));
  expect(signedAt).toBeGreaterThanOrEqual(Math.floor(d.at / 1000) - 1);
  expect(() =>
    new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
      d.raw,
      d.headers as Record<string, string>,
    ),
  ).toThrow();
  expect(d.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(d.body).sort()).toEqual(['data', 'id', 'ts', 'type']);
  expect(d.body.id).toMatch(UUID);
  expect(typeof d.body.ts).toBe('number');
}

describe('webhooks', () => {
  let receiver: Receiver;
  let server: TestServer | undefined;
  const clients: TestClient[] = [];
  const connect = async (s: TestServer, userId: string, claims: Record<string, unknown> = {}) => {
    const c = await TestClient.connect(s.wsUrl, await s.token(userId, claims));
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    server = undefined;
    await receiver.stop();
  });

  test('lifecycle events are POSTed, signed, with the documented body', async () => {
    server = await startServer({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET });
    const alice = await connect(server, 'alice', { name: 'Alice' });
    await alice.call('chat.join', { room: 'lobby' });
    const { message } = await alice.call('chat.send', {
      room: 'lobby',
      text: 'hello',
      clientMsgId: 'c1',
    });

    const occupied = await receiver.next('room.occupied');
    expect(occupied.body.data).toEqual({ room: 'lobby' });
    const joined = await receiver.next('presence.joined');
    expect(joined.body.data).toEqual({ room: 'lobby', userId: 'alice', name: 'Alice' });
    const created = await receiver.next('message.created');
    expect(created.body.data).toEqual(message);
    expect(created.body.ts).toBe(message.ts);
    for (const d of [occupied, joined, created]) expectSigned(d);

    // A second member: joined, but the room was already occupied; a retried send creates nothing new.
    const bob = await connect(server, 'bob');
    await bob.call('chat.join', { room: 'lobby' });
    await alice.call('chat.send', { room: 'lobby', text: 'hello', clientMsgId: 'c1' });
    expect((await receiver.next('presence.joined', (d) => d.userId === 'bob')).body.data).toEqual({
      room: 'lobby',
      userId: 'bob',
    });
    // Leaving: bob by chat.leave (room still has alice), alice by closing her socket (room now empty).
    await bob.call('chat.leave', { room: 'lobby' });
    await receiver.next('presence.left', (d) => d.userId === 'bob');
    await alice.close();
    const aliceLeft = await receiver.next('presence.left', (d) => d.userId === 'alice');
    expect(aliceLeft.body.data).toEqual({ room: 'lobby', userId: 'alice' });
    const vacated = await receiver.next('room.vacated');
    expect(vacated.body.data).toEqual({ room: 'lobby' });
    expectSigned(vacated);

    await new Promise((r) => setTimeout(r, 300)); // room for stray duplicates to show up
    expect(receiver.deliveries.map((d) => d.body.type).sort()).toEqual(
      [
        'room.occupied',
        'presence.joined',
        'message.created',
        'presence.joined',
        'presence.left',
        'presence.left',
        'room.vacated',
      ].sort(),
    );
    expect(new Set(receiver.deliveries.map((d) => d.body.id)).size).toBe(7);
  });

  test('messages posted through the server API are events too', async () => {
    server = await startServer({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, API_KEY: 'k' });
    const res = await fetch(`${server.url}/api/rooms/news/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bot', text: 'from the api' }),
    });
    expect(res.status).toBe(201);
    const { message } = (await res.json()) as { message: unknown };
    expect((await receiver.next('message.created')).body.data).toEqual(message);
  });

  test('a failed delivery is retried with backoff, with the same id and body, until a 2xx', async () => {
    const answers = new Map<string, number>();
    receiver.status = (d) => {
      const n = (answers.get(d.body.id) ?? 0) + 1;
      answers.set(d.body.id, n);
      return n <= 2 ? 500 : 200;
    };
    server = await startServer({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET });
    const alice = await connect(server, 'alice');
    await alice.call('chat.join', { room: 'retry-room' });
    await receiver.until(
      (all) => all.filter((d) => d.body.type === 'presence.joined').length === 3,
      '3 attempts',
      15_000,
    );
    const attempts = receiver.of('presence.joined');
    expect(new Set(attempts.map((d) => d.raw)).size).toBe(1); // same id, same body each time
    attempts.forEach(expectSigned);
    // Each attempt is signed at its own time, so a late retry still passes the receiver's tolerance.
    const stamps = attempts.map((d) => Number(d.headers['webhook-timestamp']));
    expect(stamps[2]).toBeGreaterThan(stamps[0]);
    // 1 s, then 2 s of backoff between the attempts.
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(950);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(1950);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.of('presence.joined')).toHaveLength(3); // delivered: no more attempts
  }, 20_000);

  test('events recorded while the receiver is down are delivered by the next server on the same store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-webhooks-'));
    const env = {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      SQLITE_PATH: join(dir, 'hubbub.db'),
    };
    try {
      await receiver.stop();
      server = await startServer(env);
      const alice = await connect(server, 'alice');
      await alice.call('chat.join', { room: 'durable' });
      const { message } = await alice.call('chat.send', { room: 'durable', text: 'keep me' });
      await new Promise((r) => setTimeout(r, 300)); // let it try (and fail) at least once
      await alice.close(); // (the app does not close while a socket is open: drain first, as SIGTERM does)
      await server.close();
      server = undefined;
      expect(receiver.deliveries).toEqual([]);

      await receiver.listen();
      server = await startServer(env);
      expect((await receiver.next('message.created')).body.data).toEqual(message);
      await receiver.next('room.occupied', (d) => d.room === 'durable');
      await receiver.next('presence.joined', (d) => d.userId === 'alice');
    } finally {
      await server?.close();
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  test('without WEBHOOK_URL nothing is recorded or sent', async () => {
    server = await startServer();
    const alice = await connect(server, 'alice');
    await alice.call('chat.join', { room: 'quiet' });
    await alice.call('chat.send', { room: 'quiet', text: 'x' });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.deliveries).toEqual([]);
    expect(await server.app.get(WebhookOutbox).claimWebhooks(100, 1000)).toEqual([]);
  });
});

describe('webhooks across a crash', () => {
  afterAll(() => removeBuild());

  test('an acknowledged message gets its message.created even after kill -9', async () => {
    const receiver = await Receiver.start();
    await receiver.stop(); // down while the first process runs
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-webhooks-'));
    const env = {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      SQLITE_PATH: join(dir, 'hubbub.db'),
    };
    let server: TestServer | undefined;
    try {
      const child = await spawnServer({ ...env, LOG_LEVEL: 'error' });
      const res = await fetch(`${child.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'alice' }),
      });
      const { token } = (await res.json()) as { token: string };
      const alice = await TestClient.connect(child.wsUrl, token);
      await alice.call('chat.join', { room: 'crash' });
      const { message } = await alice.call('chat.send', { room: 'crash', text: 'acknowledged' });
      child.kill('SIGKILL');
      await child.waitForExit();
      await alice.close();

      await receiver.listen();
      server = await startServer(env);
      // If the kill landed while the child held the event (claimed, its failed attempt not yet recorded),
      // it is sent once that claim's 15 s lease is over; otherwise within a second or two.
      expect((await receiver.next('message.created', undefined, 25_000)).body.data).toEqual(
        message,
      );
    } finally {
      await server?.close();
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
// Whichever service is missing decides: its gate skips the block, or fails it under REQUIRE_SERVICES=1.
const clusterGate = redis.available ? postgres : redis;

clusterGate.describe('webhooks in cluster mode', () => {
  const schema = `hubbub_webhooks_${randomBytes(4).toString('hex')}`;
  const sql = (text: string) => pgQuery(postgres.url, text);

  beforeAll(() => sql(`CREATE SCHEMA "${schema}"`));
  afterAll(() => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  test('two instances on one database send each event once', async () => {
    const receiver = await Receiver.start();
    const url = new URL(postgres.url);
    url.searchParams.set('options', `-c search_path=${schema}`); // an outbox of this test's own
    const env = (node: string) => ({
      DATABASE_URL: url.toString(),
      REDIS_URL: redis.url,
      NODE_ID: `webhooks-${node}-${schema}`,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
    });
    const servers = [await startServer(env('a')), await startServer(env('b'))];
    const room = `shared-${schema}`;
    try {
      const clients = await Promise.all(
        ['alice', 'bob'].map(async (user, i) =>
          TestClient.connect(servers[i].wsUrl, await servers[i].token(user)),
        ),
      );
      await clients[0].call('chat.join', { room });
      await clients[1].call('chat.join', { room });
      await clients[0].call('chat.send', { room, text: 'from a' });
      await clients[1].call('chat.send', { room, text: 'from b' });
      await clients[0].close();
      await receiver.next('presence.left', (d) => d.userId === 'alice');
      await clients[1].close();
      await receiver.next('room.vacated');
      await new Promise((r) => setTimeout(r, 1500)); // both dispatchers poll at least once more
      const counts: Record<string, number> = {};
      for (const d of receiver.deliveries) counts[d.body.type] = (counts[d.body.type] ?? 0) + 1;
      expect(counts).toEqual({
        'room.occupied': 1,
        'presence.joined': 2,
        'message.created': 2,
        'presence.left': 2,
        'room.vacated': 1,
      });
      expect(new Set(receiver.deliveries.map((d) => d.body.id)).size).toBe(8);
    } finally {
      for (const s of servers) await s.close();
      await receiver.stop();
    }
  }, 30_000);
});
