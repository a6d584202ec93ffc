import { randomUUID } from 'node:crypto';
import type { StoredMessage } from './message-store';
import { deleteChildRowsOfUser } from './postgres-child-rows';
import type { PostgresMessageStore } from './postgres-message-store';
import { inTransaction } from './postgres-transaction';
import { MESSAGE_COLUMNS, type MessageRow, rowToMessage } from './sql-common';
import { type MessageKey, type PendingErasure, UserMessageStore } from './user-message-store';

const AFTER = 'user_id = $1 AND (room, seq) > ($2, $3)';
const PAGE = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${AFTER} ORDER BY room, seq LIMIT $4`;
const LAST_KEY = `SELECT room, seq FROM (SELECT room, seq FROM messages WHERE ${AFTER}
  ORDER BY room, seq LIMIT $4) page ORDER BY room DESC, seq DESC LIMIT 1`;
const ERASE = `UPDATE messages SET text = '', name = NULL, client_msg_id = NULL
  WHERE ${AFTER} AND (room, seq) <= ($4, $5) AND (text <> '' OR name IS NOT NULL OR client_msg_id IS NOT NULL)`;

interface ErasureRow {
  user_id: string;
  id: string;
  requested_at: string;
}

const toPending = (r: ErasureRow): PendingErasure => ({
  userId: r.user_id,
  id: r.id,
  requestedAt: Number(r.requested_at),
});

/**
 * A person's messages on the PostgreSQL store: each erased page is one short transaction. The old row versions
 * stay in the table's files until (auto)vacuum reclaims them, as with every UPDATE in PostgreSQL.
 */
export class PostgresUserMessageStore extends UserMessageStore {
  constructor(private readonly store: PostgresMessageStore) {
    super();
  }

  override page(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<StoredMessage[]> {
    return this.store.withPool(async (pool) => {
      const { rows } = await pool.query<MessageRow>(PAGE, [
        userId,
        after?.room ?? '',
        after?.seq ?? 0,
        limit,
      ]);
      return rows.map(rowToMessage);
    });
  }

  override erasePage(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<MessageKey | undefined> {
    return this.store.withPool((pool) =>
      inTransaction(pool, async (c) => {
        const from = [after?.room ?? '', after?.seq ?? 0] as const;
        const { rows } = await c.query<{ room: string; seq: string }>(LAST_KEY, [
          userId,
          ...from,
          limit,
        ]);
        if (rows.length === 0) return undefined;
        const last = { room: rows[0].room, seq: Number(rows[0].seq) };
        await deleteChildRowsOfUser(c, userId, from, [last.room, last.seq]);
        await c.query(ERASE, [userId, ...from, last.room, last.seq]);
        return last;
      }),
    );
  }

  override scrub(): Promise<void> {
    return Promise.resolve();
  }

  override beginErasure(userId: string): Promise<PendingErasure> {
    return this.store.withPool(async (pool) => {
      // A no-op update on conflict, so that RETURNING hands back the pending row in the same statement.
      const { rows } = await pool.query<ErasureRow>(
        `INSERT INTO user_erasures (user_id, id, requested_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING user_id, id, requested_at`,
        [userId, randomUUID(), Date.now()],
      );
      return toPending(rows[0]);
    });
  }

  override pendingErasures(): Promise<PendingErasure[]> {
    return this.store.withPool(async (pool) => {
      const { rows } = await pool.query<ErasureRow>(
        'SELECT user_id, id, requested_at FROM user_erasures ORDER BY requested_at, user_id',
      );
      return rows.map(toPending);
    });
  }

  override finishErasure(userId: string, id: string): Promise<void> {
    return this.store.withPool(async (pool) => {
      await pool.query('DELETE FROM user_erasures WHERE user_id = $1 AND id = $2', [userId, id]);
    });
  }
}
