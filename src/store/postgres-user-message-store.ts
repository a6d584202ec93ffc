import { randomUUID } from 'node:crypto';
import type { StoredMessage } from './message-store';
import type { PostgresMessageStore } from './postgres-message-store';
import { MESSAGE_COLUMNS, type MessageRow, rowToMessage } from './sql-common';
import {
  type MessageKey,
  type PendingErasure,
  UserMessageStore,
  type UserReaction,
} from './user-message-store';

const AFTER = 'user_id = $1 AND (room, seq) > ($2, $3)';
const PAGE = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${AFTER} ORDER BY room, seq LIMIT $4`;
const LAST_KEY = `SELECT room, seq FROM (SELECT room, seq FROM messages WHERE ${AFTER}
  ORDER BY room, seq LIMIT $4) page ORDER BY room DESC, seq DESC LIMIT 1`;
const RANGE = `${AFTER} AND (room, seq) <= ($4, $5)`;
const OF_RANGE = `(room, seq) IN (SELECT room, seq FROM messages WHERE ${RANGE})`;
/** The tombstone, as chat.delete leaves it (the search vector is generated from the emptied text). */
const ERASE = [
  `DELETE FROM message_mentions WHERE ${OF_RANGE}`,
  `DELETE FROM message_reactions WHERE ${OF_RANGE}`,
  `UPDATE messages SET text = '', name = NULL, client_msg_id = NULL, mentions = NULL, reactions = NULL,
    deleted = true WHERE ${RANGE} AND (NOT deleted OR text <> '' OR name IS NOT NULL OR client_msg_id IS NOT NULL)`,
];
const REACTIONS = `SELECT room, seq, reaction, ts FROM message_reactions
  WHERE user_id = $1 AND (room, seq, reaction) > ($2, $3, $4) ORDER BY room, seq, reaction LIMIT $5`;
/** The tombstone in place of the message in undelivered events (see UserMessageStore.scrub). */
const TOMBSTONE = `'{"text": "", "deleted": true}'::jsonb`;
const UNNAMED = (m: string): string => `(${m} - 'name' - 'mentions' - 'reactions' - 'clientMsgId')`;
const SCRUB_OUTBOX = [
  `UPDATE webhook_outbox SET payload = (${UNNAMED('payload::jsonb')} || ${TOMBSTONE})::text
    WHERE type = 'message.created' AND payload::jsonb ->> 'userId' = $1`,
  // message.updated, and any other event that carries one of their messages (message.notify)
  `UPDATE webhook_outbox SET payload = (payload::jsonb || jsonb_build_object('message',
      ${UNNAMED("(payload::jsonb -> 'message')")} || ${TOMBSTONE}))::text
    WHERE payload::jsonb -> 'message' ->> 'userId' = $1`,
  `UPDATE webhook_outbox SET payload = (payload::jsonb - 'name')::text
    WHERE type = 'presence.joined' AND payload::jsonb ->> 'userId' = $1`,
];
/** A no-op update on conflict, so that RETURNING hands back the pending row in the same statement. */
const BEGIN = `INSERT INTO user_erasures (user_id, id, requested_at) VALUES ($1, $2, $3)
  ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING user_id, id, requested_at`;

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
 * stay in the table's files until (auto)vacuum reclaims them, as with every UPDATE in PostgreSQL; no query sees them.
 */
export class PostgresUserMessageStore extends UserMessageStore {
  constructor(private readonly store: PostgresMessageStore) {
    super();
  }

  override async page(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<StoredMessage[]> {
    const params = [userId, after?.room ?? '', after?.seq ?? 0, limit];
    return (await this.store.query<MessageRow>(PAGE, params)).map(rowToMessage);
  }

  override erasePage(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<MessageKey | undefined> {
    return this.store.transact(async (c) => {
      const from = [after?.room ?? '', after?.seq ?? 0] as const;
      const { rows } = await c.query<{ room: string; seq: string }>(LAST_KEY, [
        userId,
        ...from,
        limit,
      ]);
      if (rows.length === 0) return [undefined, false];
      const last = { room: rows[0].room, seq: Number(rows[0].seq) };
      for (const sql of ERASE) await c.query(sql, [userId, ...from, last.room, last.seq]);
      return [last, false];
    });
  }

  override async reactionsPage(
    userId: string,
    after: Omit<UserReaction, 'ts'> | undefined,
    limit: number,
  ): Promise<UserReaction[]> {
    const params = [userId, after?.room ?? '', after?.seq ?? 0, after?.reaction ?? '', limit];
    const rows = await this.store.query<{
      room: string;
      seq: string;
      reaction: string;
      ts: string;
    }>(REACTIONS, params);
    return rows.map((r) => ({
      room: r.room,
      seq: Number(r.seq),
      reaction: r.reaction,
      ts: Number(r.ts),
    }));
  }

  override async scrub(userId: string): Promise<void> {
    await this.store.transact(async (c) => {
      for (const sql of SCRUB_OUTBOX) await c.query(sql, [userId]);
      return [undefined, false];
    });
  }

  override async beginErasure(userId: string): Promise<PendingErasure> {
    return this.store.transact(async (c) => {
      const { rows } = await c.query<ErasureRow>(BEGIN, [userId, randomUUID(), Date.now()]);
      return [toPending(rows[0]), false];
    });
  }

  override async pendingErasures(): Promise<PendingErasure[]> {
    const rows = await this.store.query<ErasureRow>(
      'SELECT user_id, id, requested_at FROM user_erasures ORDER BY requested_at, user_id',
      [],
    );
    return rows.map(toPending);
  }

  override async finishErasure(userId: string, id: string): Promise<void> {
    await this.store.transact(async (c) => {
      await c.query('DELETE FROM user_erasures WHERE user_id = $1 AND id = $2', [userId, id]);
      return [undefined, false];
    });
  }
}
