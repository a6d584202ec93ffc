import type { StatementSync } from 'node:sqlite';
import type { OutboxEvent } from './webhook-outbox';
/**
 * The webhook outbox's lanes and owners in both SQL stores, side by side so the twins stay alike (see
 * OutboxEvent).
 *
 * `lane` is the lane an event was given; `queue` (a generated column) the lane it is in: `lane`, else
 * `message <room>` for a `message.created`, else the event's id. Within a queue events go in order of `ts`, then of
 * writing (SQLite's rowid, PostgreSQL's `seq`). `owner` / `owner_key` likewise: who the event is charged to, else
 * its queue. A claim looks at the CLAIM_WINDOW due events first in line and takes only events that no earlier event
 * of their queue precedes, of owners with nothing out (leased) now, one per owner: so one owner's burst, over any
 * number of lanes, takes one delivery slot per round.
 */
const CLAIM_WINDOW = 1000;

const SQLITE_QUEUE = `coalesce(lane,
    CASE WHEN type = 'message.created' THEN 'message ' || json_extract(payload, '$.room') END, id)`;
const POSTGRES_QUEUE = `coalesce(lane,
    CASE WHEN type = 'message.created' THEN 'message ' || (payload::jsonb ->> 'room') END, id::text)`;

export const SQLITE_OUTBOX_LANES_MIGRATION = `
  ALTER TABLE webhook_outbox ADD COLUMN lane TEXT;
  ALTER TABLE webhook_outbox ADD COLUMN owner TEXT;
  ALTER TABLE webhook_outbox ADD COLUMN queue TEXT GENERATED ALWAYS AS (${SQLITE_QUEUE}) VIRTUAL;
  ALTER TABLE webhook_outbox ADD COLUMN owner_key TEXT
    GENERATED ALWAYS AS (coalesce(owner, ${SQLITE_QUEUE})) VIRTUAL;
  CREATE INDEX webhook_outbox_queue ON webhook_outbox (queue, ts);
  CREATE INDEX webhook_outbox_owner ON webhook_outbox (owner_key, lease_until);`;

export const POSTGRES_OUTBOX_LANES_MIGRATION = `
  ALTER TABLE webhook_outbox ADD COLUMN lane text, ADD COLUMN owner text, ADD COLUMN seq bigserial;
  ALTER TABLE webhook_outbox ADD COLUMN queue text GENERATED ALWAYS AS (${POSTGRES_QUEUE}) STORED,
    ADD COLUMN owner_key text GENERATED ALWAYS AS (coalesce(owner, ${POSTGRES_QUEUE})) STORED;
  CREATE INDEX webhook_outbox_queue ON webhook_outbox (queue, ts, seq);
  CREATE INDEX webhook_outbox_owner ON webhook_outbox (owner_key, lease_until);`;

/** SQLite: drops the lane's latest event when `e` coalesces with it (see OutboxEvent.coalesceMs). */
export function coalesces(stmt: Record<string, StatementSync>, e: OutboxEvent): boolean {
  if (e.coalesceMs === undefined || e.lane === undefined) return false;
  if (stmt.outboxExists.get(e.id)) return false; // a repeat: a no-op, never a partner
  const last = stmt.outboxLatest.get(e.lane) as
    | { id: string; type: string; ts: number; attempts: number; lease_until: number | null }
    | undefined;
  const age = last ? e.ts - Number(last.ts) : -1;
  if (!last || last.type === e.type || Number(last.attempts) !== 0) return false;
  if (last.lease_until !== null || age < 0 || age > e.coalesceMs) return false;
  stmt.outboxDelete.run(last.id);
  return true;
}

export const SQLITE_OUTBOX_SQL = {
  insert: `INSERT OR IGNORE INTO webhook_outbox (id, type, payload, ts, next_attempt_at, lane, owner)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
  exists: 'SELECT 1 AS found FROM webhook_outbox WHERE id = ?',
  latest: `SELECT id, type, ts, attempts, lease_until FROM webhook_outbox WHERE queue = ?
           ORDER BY ts DESC, rowid DESC LIMIT 1`,
  // One statement: atomic even against another process on the same file.
  claim: `UPDATE webhook_outbox SET attempts = attempts + 1, lease_until = :lease
          WHERE id IN (
            SELECT id FROM (
              SELECT id, next_attempt_at, ts, r,
                     row_number() OVER (PARTITION BY owner_key ORDER BY next_attempt_at, ts, r) AS nth
                FROM (SELECT o.id, o.owner_key, o.next_attempt_at, o.ts, o.rowid AS r FROM webhook_outbox o
                       WHERE o.next_attempt_at <= :now AND (o.lease_until IS NULL OR o.lease_until < :now)
                         AND NOT EXISTS (SELECT 1 FROM webhook_outbox g
                                         WHERE g.owner_key = o.owner_key AND g.lease_until >= :now)
                         AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                                         WHERE p.queue = o.queue AND (p.ts, p.rowid) < (o.ts, o.rowid))
                       ORDER BY o.next_attempt_at, o.ts, o.rowid LIMIT ${CLAIM_WINDOW}))
             WHERE nth = 1 ORDER BY next_attempt_at, ts, r LIMIT :limit)
          RETURNING id, type, payload, ts, attempts`,
  count: 'SELECT count(*) AS n FROM webhook_outbox',
} as const;

export const POSTGRES_OUTBOX_SQL = {
  /**
   * One event: $1 id, $2 type, $3 payload, $4 ts, $5 first due, $6 lane, $7 coalescing window (NULL: none), $8
   * owner. The
   * queue's latest event is dropped instead of inserting this one when it is of another type, not attempted nor
   * leased, and at most $7 ms older; a row a concurrent claim holds is re-checked after its commit (attempts > 0
   * then): no pair drops out once one of them went out.
   */
  insert: `
    WITH latest AS (
      SELECT id FROM webhook_outbox
       WHERE $7::bigint IS NOT NULL AND queue = $6::text
         AND NOT EXISTS (SELECT 1 FROM webhook_outbox WHERE id = $1::uuid)
       ORDER BY ts DESC, seq DESC LIMIT 1
    ), gone AS (
      DELETE FROM webhook_outbox o USING latest l
       WHERE o.id = l.id AND o.type <> $2::text AND o.attempts = 0 AND o.lease_until IS NULL
         AND $4::bigint - o.ts BETWEEN 0 AND $7::bigint
      RETURNING o.id
    ), added AS (
      INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at, lane, owner)
      SELECT $1::uuid, $2::text, $3::text, $4::bigint, $5::bigint, $6::text, $8::text
       WHERE NOT EXISTS (SELECT 1 FROM gone)
      ON CONFLICT (id) DO NOTHING RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone)::int AS gone`,
  // SKIP LOCKED: a concurrent claim passes over rows another transaction is leasing right now, and once that
  // commits their lease_until excludes them; so no event is handed out twice at once.
  claim: `
    WITH window_ AS (
      SELECT o.id, o.owner_key, o.next_attempt_at, o.ts, o.seq FROM webhook_outbox o
       WHERE o.next_attempt_at <= $1 AND (o.lease_until IS NULL OR o.lease_until < $1)
         AND NOT EXISTS (SELECT 1 FROM webhook_outbox g
                          WHERE g.owner_key = o.owner_key AND g.lease_until >= $1)
         AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                          WHERE p.queue = o.queue AND (p.ts, p.seq) < (o.ts, o.seq))
       ORDER BY o.next_attempt_at, o.ts, o.seq LIMIT ${CLAIM_WINDOW}
       FOR UPDATE SKIP LOCKED
    ), firsts AS (
      SELECT DISTINCT ON (owner_key) id, next_attempt_at, ts, seq FROM window_
       ORDER BY owner_key, next_attempt_at, ts, seq
    )
    UPDATE webhook_outbox SET attempts = attempts + 1, lease_until = $2
     WHERE id IN (SELECT id FROM firsts ORDER BY next_attempt_at, ts, seq LIMIT $3)
    RETURNING id, type, payload, ts, attempts`,
  count: 'SELECT count(*)::int AS n FROM webhook_outbox',
} as const;
