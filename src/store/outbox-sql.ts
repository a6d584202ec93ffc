/**
 * The webhook outbox's lanes in both SQL stores, side by side so the twins stay alike (see OutboxEvent).
 *
 * `lane` is the lane an event was given; `queue` (a generated column) the lane it is in: `lane`, else
 * `message <room>` for a `message.created`, else the event's id. Within a queue events go in order of `ts`, then of
 * writing (SQLite's rowid, PostgreSQL's `seq`); a claim takes only an event that no earlier event of its queue
 * precedes, so each queue has at most one event out at a time and a claim serves many queues.
 */

export const SQLITE_OUTBOX_LANES_MIGRATION = `
  ALTER TABLE webhook_outbox ADD COLUMN lane TEXT;
  ALTER TABLE webhook_outbox ADD COLUMN queue TEXT GENERATED ALWAYS AS (coalesce(lane,
    CASE WHEN type = 'message.created' THEN 'message ' || json_extract(payload, '$.room') END, id)) VIRTUAL;
  CREATE INDEX webhook_outbox_queue ON webhook_outbox (queue, ts);`;

export const POSTGRES_OUTBOX_LANES_MIGRATION = `
  ALTER TABLE webhook_outbox ADD COLUMN lane text, ADD COLUMN seq bigserial;
  ALTER TABLE webhook_outbox ADD COLUMN queue text GENERATED ALWAYS AS (coalesce(lane,
    CASE WHEN type = 'message.created' THEN 'message ' || (payload::jsonb ->> 'room') END, id::text)) STORED;
  CREATE INDEX webhook_outbox_queue ON webhook_outbox (queue, ts, seq);`;

export const SQLITE_OUTBOX_SQL = {
  insert: `INSERT OR IGNORE INTO webhook_outbox (id, type, payload, ts, next_attempt_at, lane)
           VALUES (?, ?, ?, ?, ?, ?)`,
  exists: 'SELECT 1 AS found FROM webhook_outbox WHERE id = ?',
  latest: `SELECT id, type, ts, attempts, lease_until FROM webhook_outbox WHERE queue = ?
           ORDER BY ts DESC, rowid DESC LIMIT 1`,
  // One statement: atomic even against another process on the same file.
  claim: `UPDATE webhook_outbox SET attempts = attempts + 1, lease_until = :lease
          WHERE id IN (SELECT o.id FROM webhook_outbox o
                       WHERE o.next_attempt_at <= :now AND (o.lease_until IS NULL OR o.lease_until < :now)
                         AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                                         WHERE p.queue = o.queue AND (p.ts, p.rowid) < (o.ts, o.rowid))
                       ORDER BY o.next_attempt_at, o.ts, o.rowid LIMIT :limit)
          RETURNING id, type, payload, ts, attempts`,
  count: 'SELECT count(*) AS n FROM webhook_outbox',
} as const;

export const POSTGRES_OUTBOX_SQL = {
  /**
   * One event: $1 id, $2 type, $3 payload, $4 ts, $5 first due, $6 lane, $7 coalescing window (NULL: none). The
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
      INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at, lane)
      SELECT $1::uuid, $2::text, $3::text, $4::bigint, $5::bigint, $6::text WHERE NOT EXISTS (SELECT 1 FROM gone)
      ON CONFLICT (id) DO NOTHING RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone)::int AS gone`,
  // SKIP LOCKED: a concurrent claim passes over rows another transaction is leasing right now, and once that
  // commits their lease_until excludes them; so no event is handed out twice at once.
  claim: `UPDATE webhook_outbox SET attempts = attempts + 1, lease_until = $2
          WHERE id IN (SELECT o.id FROM webhook_outbox o
                       WHERE o.next_attempt_at <= $1 AND (o.lease_until IS NULL OR o.lease_until < $1)
                         AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                                         WHERE p.queue = o.queue AND (p.ts, p.seq) < (o.ts, o.seq))
                       ORDER BY o.next_attempt_at, o.ts, o.seq LIMIT $3
                       FOR UPDATE SKIP LOCKED)
          RETURNING id, type, payload, ts, attempts`,
  count: 'SELECT count(*)::int AS n FROM webhook_outbox',
} as const;
