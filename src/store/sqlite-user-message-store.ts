import { randomUUID } from 'node:crypto';
import type { StoredMessage } from './message-store';
import { MESSAGE_COLUMNS, type MessageRow, rowToMessage } from './sql-common';
import type { SqliteMessageStore } from './sqlite-message-store';
import { prepared } from './sqlite-statements';
import { settle } from '../common/settle';
import {
  type MessageKey,
  type PendingErasure,
  UserMessageStore,
  type UserReaction,
} from './user-message-store';

/** A person's messages, by their author rows (SQLite migration 10; written in bulk: see SqliteDerivedRows). */
const AFTER = 'user_id = ? AND (room, seq) > (?, ?)';
const PAGE = `SELECT ${MESSAGE_COLUMNS.replace(/(\w+)/g, 'm.$1')} FROM message_authors a
  JOIN messages m ON m.room = a.room AND m.seq = a.seq
  WHERE a.${AFTER.replace('(room, seq)', '(a.room, a.seq)')} ORDER BY a.room, a.seq LIMIT ?`;
const KEYS = `SELECT room, seq FROM message_authors WHERE ${AFTER} ORDER BY room, seq LIMIT ?`;
const OF_RANGE = `(room, seq) IN (SELECT room, seq FROM message_authors
  WHERE ${AFTER} AND (room, seq) <= (?, ?))`;
/** The tombstone, as chat.delete leaves it; the FTS rows go by the messages_fts_update trigger. */
const ERASE = [
  `DELETE FROM message_mentions WHERE ${OF_RANGE}`,
  `DELETE FROM message_reactions WHERE ${OF_RANGE}`,
  `UPDATE messages SET text = '', name = NULL, client_msg_id = NULL, mentions = NULL, reactions = NULL,
    deleted = 1 WHERE ${OF_RANGE} AND (deleted = 0 OR text <> '' OR name IS NOT NULL OR client_msg_id IS NOT NULL)`,
];
const REACTIONS = `SELECT room, seq, reaction, ts FROM message_reactions
  WHERE user_id = ? AND (room, seq, reaction) > (?, ?, ?) ORDER BY room, seq, reaction LIMIT ?`;
/** The tombstone in place of the message in undelivered events (see UserMessageStore.scrub). */
const tombstone = (at: string): string =>
  `json_set(json_remove(payload, '${at}.name', '${at}.mentions', '${at}.reactions', '${at}.clientMsgId'),
    '${at}.text', '', '${at}.deleted', json('true'))`;
const SCRUB_OUTBOX = [
  `UPDATE webhook_outbox SET payload = ${tombstone('$')}
    WHERE type = 'message.created' AND json_extract(payload, '$.userId') = ?`,
  // message.updated, and any other event that carries one of their messages (message.notify)
  `UPDATE webhook_outbox SET payload = ${tombstone('$.message')}
    WHERE json_extract(payload, '$.message.userId') = ?`,
  `UPDATE webhook_outbox SET payload = json_remove(payload, '$.name')
    WHERE type = 'presence.joined' AND json_extract(payload, '$.userId') = ?`,
];
// A no-op update on conflict, so that RETURNING hands back the pending row in the same statement.
const BEGIN = `INSERT INTO user_erasures (user_id, id, requested_at) VALUES (?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET user_id = excluded.user_id RETURNING user_id, id, requested_at`;
const PENDING =
  'SELECT user_id, id, requested_at FROM user_erasures ORDER BY requested_at, user_id';
const FINISH = 'DELETE FROM user_erasures WHERE user_id = ? AND id = ?';

interface ErasureRow {
  user_id: string;
  id: string;
  requested_at: number;
}

const toPending = (r: ErasureRow): PendingErasure => ({
  userId: r.user_id,
  id: r.id,
  requestedAt: Number(r.requested_at),
});

/**
 * A person's messages on the SQLite store, on its connection: writes are batches of its group commit (one short
 * transaction each), reads run at once. Erased bytes: the store's connection runs with `secure_delete` (freed
 * space in pages is zeroed), the FTS5 index with `secure-delete` (tokens removed, not marked), and `scrub` checkpoints the WAL into the database and truncates the `-wal` file, which held
 * the pages as they were before the erasure.
 */
export class SqliteUserMessageStore extends UserMessageStore {
  constructor(private readonly store: SqliteMessageStore) {
    super();
  }

  override async page(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<StoredMessage[]> {
    await this.store.indexed(); // the author rows of every acknowledged message
    return settle(() =>
      prepared(this.store.database(), PAGE)
        .all(userId, after?.room ?? '', after?.seq ?? 0, limit)
        .map((r) => rowToMessage(r as unknown as MessageRow)),
    );
  }

  override erasePage(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<MessageKey | undefined> {
    return this.store.transact((db) => {
      const from = [after?.room ?? '', after?.seq ?? 0] as const;
      const keys = prepared(db, KEYS).all(userId, ...from, limit) as {
        room: string;
        seq: number;
      }[];
      if (keys.length === 0) return [undefined, []];
      const last = { room: keys[keys.length - 1].room, seq: Number(keys[keys.length - 1].seq) };
      for (const sql of ERASE) prepared(db, sql).run(userId, ...from, last.room, last.seq);
      return [last, []];
    });
  }

  override reactionsPage(
    userId: string,
    after: Omit<UserReaction, 'ts'> | undefined,
    limit: number,
  ): Promise<UserReaction[]> {
    const from = [after?.room ?? '', after?.seq ?? 0, after?.reaction ?? ''];
    return settle(() =>
      prepared(this.store.database(), REACTIONS)
        .all(userId, ...from, limit)
        .map((r) => ({
          room: String(r.room),
          seq: Number(r.seq),
          reaction: String(r.reaction),
          ts: Number(r.ts),
        })),
    );
  }

  override async scrub(userId: string): Promise<void> {
    await this.store.transact((db) => {
      for (const sql of SCRUB_OUTBOX) prepared(db, sql).run(userId);
      return [undefined, []];
    });
    await settle(() => void this.store.database().exec('PRAGMA wal_checkpoint(TRUNCATE)'));
  }

  override beginErasure(userId: string): Promise<PendingErasure> {
    return this.store.transact((db) => {
      const row = prepared(db, BEGIN).get(userId, randomUUID(), Date.now());
      return [toPending(row as unknown as ErasureRow), []];
    });
  }

  override pendingErasures(): Promise<PendingErasure[]> {
    return settle(() =>
      prepared(this.store.database(), PENDING)
        .all()
        .map((r) => toPending(r as unknown as ErasureRow)),
    );
  }

  override finishErasure(userId: string, id: string): Promise<void> {
    return this.store.transact((db) => [void prepared(db, FINISH).run(userId, id), []]);
  }
}
