import { Pool, type PoolClient } from 'pg';
import {
  type AppendResult,
  type HistoryQuery,
  MessageStore,
  type NewMessage,
  type StoredMessage,
} from './message-store';
import { PostgresAppendBatcher } from './postgres-append-batcher';
import { buildHistoryQuery, type MessageRow, rowToMessage } from './sql-common';
import {
  type ClaimedWebhook,
  compareClaimed,
  type OutboxOptions,
  type OutboxRow,
  outboxValues,
  type OutboxEvent,
  rowToClaimed,
  type WebhookOutbox,
} from './webhook-outbox';
import { POSTGRES_OUTBOX_SQL } from './outbox-sql';
import { checkOut, connectionWithOptions } from './postgres-connection';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';

export { POSTGRES_MIGRATIONS };

/** First half of the two-int advisory lock key ("HUBB"); second half hashes the schema. */
const MIGRATION_LOCK_CLASS = 0x48554242;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Store shared by several server processes through PostgreSQL.
 *
 * Appends go through PostgresAppendBatcher (group commit): the appends that arrive while a batch is in flight
 * share the next one, across rooms, with one counter bump per room, in one round trip and one transaction. The
 * counter bump takes the room's row lock, so writers of one room (in any process) serialise on it until COMMIT;
 * the messages are inserted in the same transaction, so a rolled-back batch also rolls back its bumps: seq stays
 * gapless.
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
  private readonly batcher: PostgresAppendBatcher;

  constructor(
    opts: {
      url: string;
      poolSize?: number;
      schema?: string;
      maxBatch?: number;
      maxInFlight?: number;
    } & OutboxOptions,
  ) {
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
    this.batcher = new PostgresAppendBatcher(this.pool, {
      maxBatch: opts.maxBatch,
      maxInFlight: opts.maxInFlight,
      outbox: this.outbox,
      onOutboxCommitted: () => this.notifyEnqueued(),
    });
  }

  override async init(): Promise<void> {
    const c = await checkOut(this.pool);
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
    return this.write(() => this.batcher.append(msg));
  }

  enqueue(events: OutboxEvent[]): Promise<number> {
    // One transaction: all events or none. An id already there is a repeat of that event: dropped.
    return this.transact(async (c) => {
      events.forEach(outboxValues); // unserialisable data rejects this call before anything is written
      let dropped = 0;
      for (const e of events) {
        const { rows } = await c.query<{ gone: number }>(
          POSTGRES_OUTBOX_SQL.insert,
          outboxParams(e),
        );
        dropped += rows[0].gone > 0 ? 2 : 0;
      }
      return [dropped, events.length > 0];
    });
  }

  /**
   * Runs `fn` in a transaction on one pooled connection (a write close() waits for); with the outbox on, the events
   * it returns are written in that transaction. The second element of its answer says whether it enqueued events
   * itself (listeners are then told after the COMMIT).
   */
  transact<T>(fn: (c: PoolClient) => Promise<[T, boolean | OutboxEvent[]]>): Promise<T> {
    return this.write(async () => {
      const c = await checkOut(this.pool);
      let broken: unknown;
      let out!: [T, boolean | OutboxEvent[]];
      try {
        await inTransaction(c, async () => {
          out = await fn(c);
          if (this.outbox && Array.isArray(out[1]))
            for (const e of out[1]) await c.query(POSTGRES_OUTBOX_SQL.insert, outboxParams(e));
        });
      } catch (err) {
        broken = err;
        throw err;
      } finally {
        c.release(broken instanceof Error ? broken : undefined);
      }
      const enqueued = Array.isArray(out[1]) ? this.outbox && out[1].length > 0 : out[1];
      if (enqueued) this.notifyEnqueued();
      return out[0];
    });
  }

  /** A read on the pool (for the features beside the store). */
  async query<R extends object>(sql: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  claimWebhooks(limit: number, leaseMs: number): Promise<ClaimedWebhook[]> {
    return this.write(async () => {
      const now = Date.now();
      const { rows } = await this.pool.query<OutboxRow>(POSTGRES_OUTBOX_SQL.claim, [
        now,
        now + leaseMs,
        limit,
      ]);
      return rows.map(rowToClaimed).sort(compareClaimed);
    });
  }

  async countWebhooks(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(POSTGRES_OUTBOX_SQL.count);
    return rows[0].n;
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

  override async firstSeq(room: string): Promise<number> {
    const { rows } = await this.pool.query<{ first: string }>(
      `SELECT COALESCE((SELECT min(seq) FROM messages WHERE room = $1),
        (SELECT last_seq FROM rooms WHERE room = $1) + 1, 1) AS first`,
      [room],
    );
    return Number(rows[0].first);
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

function outboxParams(e: OutboxEvent): unknown[] {
  const [id, type, payload, ts] = outboxValues(e);
  const coalesce = e.lane === undefined ? null : (e.coalesceMs ?? null);
  return [id, type, payload, ts, ts + (e.holdMs ?? 0), e.lane ?? null, coalesce, e.owner ?? null];
}
