import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from '../support/redis-processes';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import { TestClient } from '../support/ws-client';
import { pgQuery } from '../support/pg-query';

/**
 * Lifecycle webhooks are sent exactly once per cluster (contract, section 7), even when the last two users of a
 * room leave on two instances at the same moment. The race is forced on purpose, 100 times: both leaves are sent
 * together, so both instances run their presence scripts concurrently. Redis decides each transition (and the
 * room's vacancy) once, and the webhook ids derive from it.
 */
const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;
const ROUNDS = 100;

interface Body {
  id: string;
  type: string;
  data: { room: string; userId?: string };
}

gate.describe('webhooks in cluster mode: the last two users leave at once', () => {
  const schema = `hubbub_race_${randomBytes(4).toString('hex')}`;
  const sql = <T>(text: string): Promise<T[]> => pgQuery<T>(postgres.url, text);
  const bodies: Body[] = [];
  let receiver: Server;
  let servers: TestServer[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    await sql(`CREATE SCHEMA "${schema}"`);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = new URL(postgres.url);
    url.searchParams.set('options', `-c search_path=${schema}`); // an outbox of this test's own
    const env = (node: string) => ({
      DATABASE_URL: url.toString(),
      REDIS_URL: redis.url,
      NODE_ID: `race-${node}-${schema}`,
      WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      RATE_LIMIT_PER_SEC: '1000',
      RATE_LIMIT_BURST: '1000',
    });
    servers = [await startServer(env('a')), await startServer(env('b'))];
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const s of servers) await s.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  test(`${ROUNDS} rounds of two users leaving on two instances at once: each event once`, async () => {
    const [alice, bob] = await Promise.all(
      ['alice', 'bob'].map(async (user, i) =>
        TestClient.connect(servers[i].wsUrl, await servers[i].token(user)),
      ),
    );
    clients.push(alice, bob);
    const rooms = Array.from({ length: ROUNDS }, (_, i) => `race-${i}-${schema}`);
    for (const room of rooms) {
      await alice.call('chat.join', { room });
      await bob.call('chat.join', { room });
      await Promise.all([alice.call('chat.leave', { room }), bob.call('chat.leave', { room })]);
    }

    // Per round: room.occupied, presence.joined ×2, presence.left ×2, room.vacated. Wait until the outbox is
    // empty (every recorded event delivered): then a repeat, had one been recorded, would have arrived too.
    const expected = ROUNDS * 6;
    await until(
      async () =>
        bodies.length >= expected &&
        (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".webhook_outbox`))[0]
          .n === 0,
      'every lifecycle event delivered',
      60_000,
    );
    const count = new Map<string, number>();
    for (const b of bodies) {
      const k = `${b.type} ${b.data.room} ${b.data.userId ?? ''}`;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    const wrong = [...count].filter(([, n]) => n !== 1);
    expect(wrong).toEqual([]);
    for (const room of rooms) {
      for (const k of [
        `room.occupied ${room} `,
        `presence.joined ${room} alice`,
        `presence.joined ${room} bob`,
        `presence.left ${room} alice`,
        `presence.left ${room} bob`,
        `room.vacated ${room} `,
      ])
        expect([k, count.get(k)]).toEqual([k, 1]);
    }
    expect(bodies).toHaveLength(expected);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(expected);
  }, 120_000);
});
