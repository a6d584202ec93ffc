import { randomUUID } from 'node:crypto';
import { DatabaseError, Pool, type PoolClient } from 'pg';
import {
  type AppendResult,
  type HistoryQuery,
  MessageStore,
  type NewMessage,
  type StoredMessage,
} from './message-store';
import {
  assertNewMessage,
  buildHistoryQuery,
  MESSAGE_COLUMNS,
  type MessageRow,
  rowToMessage,
} from './sql-common';
import {
  type ClaimedWebhook,
  compareClaimed,
  type OutboxOptions,
  type OutboxRow,
  outboxValues,
  rowToClaimed,
  type WebhookEvent,
  type WebhookOutbox,
} from './webhook-outbox';

/** Ordered, append-only schema steps. Never edit a shipped step: add a new one. */
export const POSTGRES_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'rooms and messages',
    sql: `
      CREATE TABLE rooms (
        room     text PRIMARY KEY,
        last_seq bigint NOT NULL
      );
      CREATE TABLE messages (
        id            uuid PRIMARY KEY,
        room          text NOT NULL,
        seq           bigint NOT NULL,
        user_id       text NOT NULL,
        name          text,
        text          text NOT NULL,
        ts            bigint NOT NULL,
        client_msg_id text,
        CONSTRAINT messages_room_seq_key UNIQUE (room, seq),
        CONSTRAINT messages_idempotency_key UNIQUE (room, user_id, client_msg_id)
      );`,
  },
  {
    version: 2,
    name: 'webhook outbox',
    sql: `
      CREATE TABLE webhook_outbox (
        id              uuid PRIMARY KEY,
        type            text NOT NULL,
        payload         text NOT NULL,     -- JSON of the event's data, kept byte for byte
        ts              bigint NOT NULL,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        lease_until     bigint             -- a dispatcher holds it until then; delivered rows are deleted
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);`,
  },
];

/** First half of the two-int advisory lock key ("HUBB"); second half hashes the schema. */
const MIGRATION_LOCK_CLASS = 0x48554242;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Store shared by several server processes through PostgreSQL.
 *
 * Seq allocation: `INSERT INTO rooms ... ON CONFLICT DO UPDATE ... RETURNING`
 * takes the room row lock, so writers of one room (in any process) serialise
 * on it until COMMIT; the message insert happens in the same transaction, so a
 * rolled-back append also rolls back its counter bump: seq stays gapless.
 *
 * Webhooks: with `outbox: true` the `message.created` event is inserted into webhook_outbox in the same
 * transaction as its message. Claims lock rows with FOR UPDATE SKIP LOCKED, so instances sharing the
 * database never hand the same event to two dispatchers at once.
 */
export class PostgresMessageStore extends MessageStore implements WebhookOutbox {
  private readonly pool: Pool;
  private readonly schema?: string;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing?: Promise<void>;
  private readonly outbox: boolean;
  private readonly enqueueListeners: (() => void)[] = [];

  constructor(opts: { url: string; poolSize?: number; schema?: string } & OutboxOptions) {
    super();
    this.outbox = opts.outbox ?? false;
    if (opts.schema !== undefined && !IDENTIFIER.test(opts.schema)) {
      throw new Error(`PostgresMessageStore: invalid schema name ${JSON.stringify(opts.schema)}`);
    }
    this.schema = opts.schema;
    // Force durable commits even if the server default is synchronous_commit=off.
    const options = ['-c synchronous_commit=on'];
    if (opts.schema) options.push(`-c search_path=${opts.schema}`);
    this.pool = new Pool({
      ...connectionWithOptions(opts.url, options.join(' ')),
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
    });
    // An idle client dying (server restart, network) must not crash the process;
    // the pool drops it and the next query reconnects or fails visibly.
    this.pool.on('error', () => {});
  }

  override async init(): Promise<void> {
    const c = await this.pool.connect();
    let broken: unknown;
    try {
      // Session-level lock: concurrent instances starting together run migrations one at a time.
      await c.query('SELECT pg_advisory_lock($1, hashtext($2))', [
        MIGRATION_LOCK_CLASS,
        this.schema ?? '',
      ]);
      try {
        if (this.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        await inTransaction(c, async () => {
          await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
          const { rows } = await c.query<{ version: number }>(
            'SELECT version FROM schema_migrations',
          );
          const done = new Set(rows.map((r) => r.version));
          for (const m of POSTGRES_MIGRATIONS) {
            if (done.has(m.version)) continue;
            await c.query(m.sql);
            await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
              m.version,
              m.name,
            ]);
          }
        });
      } finally {
        await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [
          MIGRATION_LOCK_CLASS,
          this.schema ?? '',
        ]);
      }
    } catch (e) {
      broken = e; // destroy the connection: also drops the advisory lock if unlock failed
      throw e;
    } finally {
      c.release(broken instanceof Error ? broken : undefined);
    }
  }

  override append(msg: NewMessage): Promise<AppendResult> {
    return this.write(async () => {
      assertNewMessage(msg);
      return this.doAppend(msg);
    });
  }

  enqueue(events: WebhookEvent[]): Promise<void> {
    return this.write(async () => {
      const rows = events.map(outboxValues);
      if (rows.length === 0) return;
      const params = rows.flat();
      const values = rows.map(
        (_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}, $${i * 4 + 4})`,
      );
      // One statement: all events or none.
      await this.pool.query(
        `INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at) VALUES ${values.join(', ')}`,
        params,
      );
      this.notifyEnqueued();
    });
  }

  claimWebhooks(limit: number, leaseMs: number): Promise<ClaimedWebhook[]> {
    return this.write(async () => {
      const now = Date.now();
      // SKIP LOCKED: a concurrent claim passes over rows another transaction is leasing right now, and
      // once that commits their lease_until excludes them; so no event is handed out twice at once.
      const { rows } = await this.pool.query<OutboxRow>(
        `UPDATE webhook_outbox SET attempts = attempts + 1, lease_until = $2
         WHERE id IN (SELECT id FROM webhook_outbox
                      WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
                      ORDER BY next_attempt_at, ts, id LIMIT $3
                      FOR UPDATE SKIP LOCKED)
         RETURNING id, type, payload, ts, attempts`,
        [now, now + leaseMs, limit],
      );
      return rows.map(rowToClaimed).sort(compareClaimed);
    });
  }

  completeWebhook(id: string): Promise<void> {
    return this.write(async () => {
      await this.pool.query('DELETE FROM webhook_outbox WHERE id = $1', [id]);
    });
  }

  retryWebhook(id: string, nextAttemptAt: number): Promise<void> {
    return this.write(async () => {
      await this.pool.query(
        'UPDATE webhook_outbox SET next_attempt_at = $2, lease_until = NULL WHERE id = $1',
        [id, nextAttemptAt],
      );
    });
  }

  onEnqueue(listener: () => void): void {
    this.enqueueListeners.push(listener);
  }

  private notifyEnqueued(): void {
    for (const listener of this.enqueueListeners) listener();
  }

  /**
   * Runs a write, tracked so close() can wait for writes already under way. The async IIFE runs
   * synchronously up to its first await, so the closing check happens at call time; throws become rejections.
   */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    const p = (async () => {
      if (this.closing) throw new Error('PostgresMessageStore: closed');
      return fn();
    })();
    this.inFlight.add(p);
    const untrack = () => this.inFlight.delete(p);
    p.then(untrack, untrack);
    return p;
  }

  override async history(q: HistoryQuery): Promise<StoredMessage[]> {
    const { sql, params, reverse } = buildHistoryQuery(q, (n) => `$${n}`);
    const { rows } = await this.pool.query<MessageRow>(sql, params);
    const out = rows.map(rowToMessage);
    return reverse ? out.reverse() : out;
  }

  override async lastSeq(room: string): Promise<number> {
    const { rows } = await this.pool.query<{ last_seq: string }>(
      'SELECT last_seq FROM rooms WHERE room = $1',
      [room],
    );
    return rows.length ? Number(rows[0].last_seq) : 0;
  }

  override async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  override close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.pool.end();
    })();
    return this.closing;
  }

  private async doAppend(msg: NewMessage): Promise<AppendResult> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      if (msg.clientMsgId !== undefined) {
        const original = await findByClient(c, msg);
        if (original) return { message: original, duplicate: true };
      }
      await c.query('BEGIN');
      try {
        const bump = await c.query<{ last_seq: string }>(
          `INSERT INTO rooms (room, last_seq) VALUES ($1, 1)
           ON CONFLICT (room) DO UPDATE SET last_seq = rooms.last_seq + 1 RETURNING last_seq`,
          [msg.room],
        );
        const message: StoredMessage = {
          id: randomUUID(),
          room: msg.room,
          seq: Number(bump.rows[0].last_seq),
          userId: msg.userId,
          text: msg.text,
          ts: Date.now(),
        };
        if (msg.name !== undefined) message.name = msg.name;
        if (msg.clientMsgId !== undefined) message.clientMsgId = msg.clientMsgId;
        const ins = await c.query(
          `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT ON CONSTRAINT messages_idempotency_key DO NOTHING`,
          [
            message.id,
            message.room,
            message.seq,
            message.userId,
            msg.name ?? null,
            message.text,
            message.ts,
            msg.clientMsgId ?? null,
          ],
        );
        if (ins.rowCount === 0) {
          // Lost a race: a concurrent append with the same clientMsgId committed
          // after our pre-check. Roll back (undoing our counter bump, so no gap)
          // and return the winner's row.
          await c.query('ROLLBACK');
          const original = await findByClient(c, msg);
          if (!original)
            throw new Error('PostgresMessageStore: idempotency conflict but original not found');
          return { message: original, duplicate: true };
        }
        if (this.outbox) {
          await c.query(
            'INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at) VALUES ($1, $2, $3, $4, $4)',
            outboxValues({
              id: randomUUID(),
              type: 'message.created',
              ts: message.ts,
              data: message,
            }),
          );
        }
        await c.query('COMMIT');
        if (this.outbox) this.notifyEnqueued();
        return { message, duplicate: false };
      } catch (e) {
        await c.query('ROLLBACK').catch((re: Error) => (broken = re));
        throw e;
      }
    } catch (e) {
      // Anything but a server-reported SQL error may leave the connection in an
      // unknown state: destroy it instead of returning it to the pool.
      if (!broken && !(e instanceof DatabaseError)) broken = e as Error;
      throw e;
    } finally {
      c.release(broken);
    }
  }
}

async function findByClient(c: PoolClient, msg: NewMessage): Promise<StoredMessage | undefined> {
  const { rows } = await c.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = $1 AND user_id = $2 AND client_msg_id = $3`,
    [msg.room, msg.userId, msg.clientMsgId],
  );
  return rows.length ? rowToMessage(rows[0]) : undefined;
}

async function inTransaction(c: PoolClient, fn: () => Promise<void>): Promise<void> {
  await c.query('BEGIN');
  try {
    await fn();
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * pg lets an `options` parameter in the URL silently override the `options`
 * config field, which would drop our search_path. So when the URL carries its
 * own `options`, append ours to it in the URL instead (later -c settings win).
 */
function connectionWithOptions(
  url: string,
  options: string,
): { connectionString: string; options?: string } {
  try {
    const u = new URL(url);
    const existing = u.searchParams.get('options');
    if (existing !== null) {
      u.searchParams.set('options', `${existing} ${options}`);
      return { connectionString: u.toString() };
    }
  } catch {
    // not WHATWG-parseable (e.g. a socket path): leave the URL alone
  }
  return { connectionString: url, options };
}
