import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { servicesGate, TEST_DATABASE_URL } from '../../test/support/services';
import { describeMessageStore } from './message-store.contract';
import { POSTGRES_MIGRATIONS, PostgresMessageStore } from './postgres-message-store';
import { describeWebhookOutbox } from './webhook-outbox.contract';

/** Each spec run works in its own schema so concurrent test files never collide. */
const freshSchema = () => `hubbub_test_${randomBytes(6).toString('hex')}`;

async function sql<T = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}
const dropSchema = (schema: string) => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);

const pg = servicesGate('postgres');

pg.describe('PostgresMessageStore', () => {
  describeMessageStore('PostgresMessageStore', () => {
    const schema = freshSchema();
    return {
      open: () => new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 5 }),
      destroy: () => dropSchema(schema).then(() => undefined),
    };
  });

  describeWebhookOutbox('PostgresMessageStore', () => {
    const schema = freshSchema();
    return {
      open: ({ outbox }) =>
        new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 5, outbox }),
      destroy: () => dropSchema(schema).then(() => undefined),
    };
  });

  describe('PostgresMessageStore specifics', () => {
    let schema: string;
    const stores: PostgresMessageStore[] = [];
    const open = (poolSize = 5) => {
      const s = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize });
      stores.push(s);
      return s;
    };

    beforeEach(() => {
      schema = freshSchema();
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await dropSchema(schema);
    });

    test('init creates the missing schema and keeps tables inside it', async () => {
      await open().init();
      const tables = await sql<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'messages',
        'rooms',
        'schema_migrations',
        'webhook_outbox',
      ]);
    });

    test('instances starting together apply each migration exactly once (advisory lock)', async () => {
      await Promise.all(Array.from({ length: 4 }, () => open(2).init()));
      await open().init(); // and a later start is a no-op
      const rows = await sql<{ version: number }>(
        `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
      );
      expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    });

    test('two instances (two pools, like two processes) writing one room concurrently stay gapless', async () => {
      const a = open(4);
      const b = open(4);
      await Promise.all([a.init(), b.init()]);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? a : b).append({ room: 'shared', userId: `u${i % 3}`, text: `${i}` }),
        ),
      );
      const expected = Array.from({ length: 200 }, (_, i) => i + 1);
      expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(expected);
      expect((await a.history({ room: 'shared', limit: 500 })).map((m) => m.seq)).toEqual(expected);
      expect(await b.lastSeq('shared')).toBe(200);
    });

    test('a clientMsgId race across two instances returns one original and leaves no seq gap', async () => {
      const a = open(4);
      const b = open(4);
      await Promise.all([a.init(), b.init()]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).append({ room: 'r', userId: 'u', text: `${i}`, clientMsgId: 'same' }),
        ),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(await a.lastSeq('r')).toBe(1);
      expect((await b.append({ room: 'r', userId: 'u', text: 'next' })).message.seq).toBe(2);
    });

    test('webhooks: four dispatchers (own pools) with parallel claim loops get every event exactly once', async () => {
      const dispatchers = Array.from({ length: 4 }, () => open(4));
      await Promise.all(dispatchers.map((d) => d.init()));
      const ids = Array.from({ length: 400 }, () => randomUUID());
      await dispatchers[0].enqueue(
        ids.map((id, i) => ({ id, type: 'presence.joined' as const, ts: 1000 + i, data: { i } })),
      );
      const claimedBy = new Map<string, number[]>();
      const loop = async (d: PostgresMessageStore, n: number) => {
        for (;;) {
          const batch = await d.claimWebhooks(5, 60_000);
          if (batch.length === 0) return;
          for (const e of batch) claimedBy.set(e.id, [...(claimedBy.get(e.id) ?? []), n]);
          await Promise.all(batch.map((e) => d.completeWebhook(e.id)));
        }
      };
      await Promise.all(dispatchers.flatMap((d, n) => [loop(d, n), loop(d, n), loop(d, n)]));
      expect([...claimedBy.keys()].sort()).toEqual([...ids].sort());
      expect([...claimedBy.values()].filter((by) => by.length > 1)).toEqual([]);
      expect(new Set([...claimedBy.values()].flat()).size).toBeGreaterThan(1); // they really competed
    });

    test('webhooks: a clientMsgId race across instances writes one message.created', async () => {
      const a = new PostgresMessageStore({
        url: TEST_DATABASE_URL,
        schema,
        poolSize: 4,
        outbox: true,
      });
      const b = new PostgresMessageStore({
        url: TEST_DATABASE_URL,
        schema,
        poolSize: 4,
        outbox: true,
      });
      stores.push(a, b);
      await Promise.all([a.init(), b.init()]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).append({ room: 'r', userId: 'u', text: `${i}`, clientMsgId: 'same' }),
        ),
      );
      const original = results.find((r) => !r.duplicate)!.message;
      const events = await a.claimWebhooks(100, 60_000);
      expect(events.map((e) => [e.type, e.data])).toEqual([['message.created', original]]);
    });

    test('ts and seq come back as numbers, not bigint strings', async () => {
      const s = open();
      await s.init();
      await s.append({ room: 'r', userId: 'u', text: 'x' });
      const [m] = await s.history({ room: 'r', limit: 1 });
      expect(typeof m.seq).toBe('number');
      expect(typeof m.ts).toBe('number');
    });

    test('ping rejects once the pool is closed', async () => {
      const s = open();
      await s.init();
      await s.ping();
      await s.close();
      await expect(s.ping()).rejects.toThrow();
    });

    test('rejects a schema name that is not a plain identifier', () => {
      expect(
        () => new PostgresMessageStore({ url: TEST_DATABASE_URL, schema: 'x"; DROP' }),
      ).toThrow(/schema/);
    });
  });
});
