import type { PostgresMessageStore } from './postgres-message-store';
import { RetentionStore } from './retention-store';

/** The sweep's advisory lock: "HUBR" (Hubbub retention), and the schema's hash (deployments sharing a database in
 * schemas of their own sweep each their own). */
const SWEEP_LOCK_CLASS = 0x48554252;

/** The head of the room's log that is older than the cutoff: a gapless prefix, at most $3 rows. */
const PREFIX_END = `SELECT max(seq) AS up_to, count(*)::int AS n FROM (
    SELECT seq, bool_and(ts < $2) OVER (ORDER BY seq) AS old
    FROM (SELECT seq, ts FROM messages WHERE room = $1 ORDER BY seq LIMIT $3) head
  ) marked WHERE old`;

/**
 * Retention on the PostgreSQL store: each purge is one short transaction (mentions and reactions go with their
 * message by ON DELETE CASCADE, the search vector is a column of the row). The sweep lock is a transaction-level
 * advisory lock (`pg_try_advisory_xact_lock`) held by a transaction that stays open, doing nothing else, while
 * the sweep runs on other connections: one instance sweeps at a time, and a dead instance's lock goes with its
 * connection.
 */
export class PostgresRetentionStore extends RetentionStore {
  constructor(private readonly store: PostgresMessageStore) {
    super();
  }

  override async roomsAfter(after: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.store.query<{ room: string }>(
      'SELECT room FROM rooms WHERE room > $1 ORDER BY room LIMIT $2',
      [after ?? '', limit],
    );
    return rows.map((r) => r.room);
  }

  override async purge(room: string, before: number, limit: number): Promise<number> {
    const oldest = await this.store.query<{ ts: string }>(
      'SELECT ts FROM messages WHERE room = $1 ORDER BY seq LIMIT 1',
      [room],
    );
    if (oldest.length === 0 || Number(oldest[0].ts) >= before) return 0;
    return this.store.transact(async (c) => {
      const { rows } = await c.query<{ up_to: string | null; n: number }>(PREFIX_END, [
        room,
        before,
        limit,
      ]);
      if (rows[0].up_to === null) return [0, false];
      await c.query('DELETE FROM messages WHERE room = $1 AND seq <= $2', [room, rows[0].up_to]);
      return [rows[0].n, false];
    });
  }

  override exclusively<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return this.store.transact(async (c) => {
      const { rows } = await c.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema())) AS ok',
        [SWEEP_LOCK_CLASS],
      );
      return [rows[0].ok ? await fn() : undefined, false];
    });
  }
}
