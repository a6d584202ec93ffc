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
        'message_mentions',
        'message_reactions',
        'messages',
        'read_markers',
        'room_audit',
        'room_bans',
        'room_mutes',
        'room_roles',
        'room_settings',
        'rooms',
        'schema_migrations',
        'user_erasures',
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

    test('group commit: concurrent appends share transactions, each holding at most maxBatch rows', async () => {
      const s = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, maxBatch: 8 });
      stores.push(s);
      await s.init();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          s.append({ room: `r${i % 5}`, userId: 'u', text: `${i}` }),
        ),
      );
      // Rows written by one transaction share its xmin.
      const perTx = await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".messages GROUP BY xmin::text`,
      );
      expect(perTx.reduce((sum, r) => sum + r.n, 0)).toBe(50);
      expect(Math.max(...perTx.map((r) => r.n))).toBeLessThanOrEqual(8);
      expect(perTx.length).toBeLessThan(50 / 4); // batched (and across rooms), not one transaction each
    });

    test('two instances writing 200 rooms in opposite orders, 30 rounds, never deadlock and stay gapless', async () => {
      const a = open(4);
      const b = open(4);
      await Promise.all([a.init(), b.init()]);
      const rooms = Array.from({ length: 200 }, (_, i) => `room-${String(i).padStart(3, '0')}`);
      let slowest = 0;
      for (let round = 0; round < 30; round++) {
        const started = Date.now();
        await Promise.all([
          ...rooms.map((room) => a.append({ room, userId: 'a', text: `${round}` })),
          ...[...rooms].reverse().map((room) => b.append({ room, userId: 'b', text: `${round}` })),
        ]);
        slowest = Math.max(slowest, Date.now() - started);
      }
      // A deadlock is only detected after deadlock_timeout (1 s), then the batch is replayed: no round may last
      // that long (one takes ~80 ms here).
      expect(slowest).toBeLessThan(1000);
      const counts = await sql<{ room: string; n: number; max: string }>(
        `SELECT room, count(*)::int AS n, max(seq) AS max FROM "${schema}".messages GROUP BY room`,
      );
      expect(counts).toHaveLength(200);
      for (const c of counts) expect([c.n, Number(c.max)]).toEqual([60, 60]);
    });

    test('a row the database refuses fails alone: its batch neighbours commit, gapless', async () => {
      const s = open();
      await s.init();
      // A real database-side refusal: a trigger rejecting one text.
      await sql(`CREATE FUNCTION "${schema}".refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poison row'; END IF; RETURN NEW; END $$`);
      await sql(`CREATE TRIGGER refuse_poison BEFORE INSERT ON "${schema}".messages
        FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse_poison()`);
      const settled = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          s.append({
            room: `r${i % 2}`,
            userId: 'u',
            text: i === 13 || i === 30 ? 'poison' : `${i}`,
          }),
        ),
      );
      const rejected = settled.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      expect(rejected).toEqual([13, 30]);
      expect((await s.history({ room: 'r0', limit: 100 })).map((m) => m.seq)).toEqual(
        Array.from({ length: 19 }, (_, i) => i + 1),
      );
      expect((await s.history({ room: 'r1', limit: 100 })).map((m) => m.seq)).toEqual(
        Array.from({ length: 19 }, (_, i) => i + 1),
      );
    });

    test('text holding NUL (which PostgreSQL cannot store) is refused before any transaction', async () => {
      const s = open();
      await s.init();
      const [bad, good] = await Promise.allSettled([
        s.append({ room: 'r', userId: 'u', text: 'a\u0000b' }),
        s.append({ room: 'r', userId: 'u', text: 'fine' }),
      ]);
      expect(bad).toMatchObject({
        status: 'rejected',
        reason: expect.objectContaining({ message: expect.stringMatching(/NUL/) }),
      });
      expect(good).toMatchObject({ status: 'fulfilled', value: { message: { seq: 1 } } });
    });

    test('a clientMsgId race across two instances in many rooms, 20 rounds: one original per key, no gap', async () => {
      const a = open(4);
      const b = open(4);
      await Promise.all([a.init(), b.init()]);
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 ? a : b).append({
              room: `r${(i >> 1) % 4}`,
              userId: 'u',
              text: `${round}.${i}`,
              clientMsgId: `k${round}.${i >> 3}`, // i and i ^ 1: same room and key, other instance
            }),
          ),
        );
        const originals = new Map<string, string>();
        for (const r of results) {
          const k = `${r.message.room}/${r.message.clientMsgId}`;
          expect(originals.get(k) ?? r.message.id).toBe(r.message.id);
          originals.set(k, r.message.id);
        }
        expect(originals.size).toBe(20);
        expect(results.filter((r) => r.duplicate)).toHaveLength(20);
      }
      for (let room = 0; room < 4; room++) {
        const seqs = (await a.history({ room: `r${room}`, limit: 100 })).map((m) => m.seq);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        expect(await a.lastSeq(`r${room}`)).toBe(seqs.length);
      }
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
