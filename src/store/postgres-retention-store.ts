import type { PostgresMessageStore } from './postgres-message-store';
import { deleteChildRowsUpTo } from './postgres-child-rows';
import { RetentionStore } from './retention-store';
import { inTransaction } from './postgres-transaction';

/** The sweep's advisory lock: "HUBR" (Hubbub retention), 1. */
const SWEEP_LOCK = [0x48554252, 1];

/** The head of the room's log that is older than the cutoff: a gapless prefix, at most $3 rows. */
const PREFIX_END = `SELECT max(seq) AS up_to, count(*)::int AS n FROM (
    SELECT seq, ts, bool_and(ts < $2) OVER (ORDER BY seq) AS old
    FROM (SELECT seq, ts FROM messages WHERE room = $1 ORDER BY seq LIMIT $3) head
  ) marked WHERE old`;

/**
 * Retention on the PostgreSQL store: each purge is one short transaction; the sweep lock is a session-level
 * advisory lock taken with `pg_try_advisory_lock`, so one instance sweeps at a time and a dead instance's lock
 * goes with its connection.
 */
export class PostgresRetentionStore extends RetentionStore {
  constructor(private readonly store: PostgresMessageStore) {
    super();
  }

  override roomsAfter(after: string | undefined, limit: number): Promise<string[]> {
    return this.store.withPool(async (pool) => {
      const { rows } = await pool.query<{ room: string }>(
        'SELECT room FROM rooms WHERE room > $1 ORDER BY room LIMIT $2',
        [after ?? '', limit],
      );
      return rows.map((r) => r.room);
    });
  }

  override purge(room: string, before: number, limit: number): Promise<number> {
    return this.store.withPool(async (pool) => {
      const oldest = await pool.query<{ ts: string }>(
        'SELECT ts FROM messages WHERE room = $1 ORDER BY seq LIMIT 1',
        [room],
      );
      if (oldest.rows.length === 0 || Number(oldest.rows[0].ts) >= before) return 0;
      return inTransaction(pool, async (c) => {
        const { rows } = await c.query<{ up_to: string | null; n: number }>(PREFIX_END, [
          room,
          before,
          limit,
        ]);
        if (rows[0].up_to === null) return 0;
        const upTo = Number(rows[0].up_to);
        await deleteChildRowsUpTo(c, room, upTo);
        await c.query('DELETE FROM messages WHERE room = $1 AND seq <= $2', [room, upTo]);
        return rows[0].n;
      });
    });
  }

  override exclusively<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return this.store.withPool(async (pool) => {
      const c = await pool.connect();
      let broken: unknown;
      try {
        const { rows } = await c.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock($1, $2) AS ok',
          SWEEP_LOCK,
        );
        if (!rows[0].ok) return undefined;
        try {
          return await fn();
        } finally {
          await c.query('SELECT pg_advisory_unlock($1, $2)', SWEEP_LOCK).catch((e: unknown) => {
            broken = e; // the connection is dropped below, and the lock with it
          });
        }
      } finally {
        c.release(broken instanceof Error ? broken : undefined);
      }
    });
  }
}
