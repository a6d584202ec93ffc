import type { StatementSync } from 'node:sqlite';
import { settle } from '../common/settle';
import type { StoredMessage } from './message-store';
import {
  countReaction,
  editEvent as event,
  type DeleteOutcome,
  MAX_REACTIONS_PER_MESSAGE,
  MessageEdits,
  type ReactOutcome,
} from './message-edits';
import { MESSAGE_COLUMNS, type MessageRow, rowToMessage } from './sql-common';
import type { SqliteMessageStore } from './sqlite-message-store';

const SQL = {
  get: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND seq = ?`,
  edit: 'UPDATE messages SET text = ?, edited_at = ?, mentions = ? WHERE room = ? AND seq = ?',
  tombstone: `UPDATE messages SET text = '', name = NULL, mentions = NULL, reactions = NULL, deleted = 1
    WHERE room = ? AND seq = ?`,
  dropMentions: 'DELETE FROM message_mentions WHERE room = ? AND seq = ?',
  mention: 'INSERT OR IGNORE INTO message_mentions (room, seq, user_id) VALUES (?, ?, ?)',
  dropReactions: 'DELETE FROM message_reactions WHERE room = ? AND seq = ?',
  addReaction: `INSERT OR IGNORE INTO message_reactions (room, seq, reaction, user_id, ts) VALUES (?, ?, ?, ?, ?)`,
  removeReaction:
    'DELETE FROM message_reactions WHERE room = ? AND seq = ? AND reaction = ? AND user_id = ?',
  setReactions: 'UPDATE messages SET reactions = ? WHERE room = ? AND seq = ?',
  reactors: `SELECT user_id FROM message_reactions WHERE room = ? AND seq = ? AND reaction = ?
    ORDER BY ts, user_id LIMIT ?`,
  thread: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND reply_to = ? AND seq > ?
    ORDER BY seq LIMIT ?`,
  // The index is read newest first (rowid grows with seq in a room) and stops at `limit`; `r` keeps it to the room.
  search: `SELECT ${MESSAGE_COLUMNS.replace(/(\w+)/g, 'm.$1')} FROM messages_fts f
    JOIN messages m ON m.rowid = f.rowid
    WHERE messages_fts MATCH ? AND f.rowid <= ? AND m.room = ? AND m.seq < ? AND m.deleted = 0
    ORDER BY f.rowid DESC LIMIT ?`,
  rowidBelow: `SELECT rowid AS id FROM messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT 1`,
  checkpoint: 'PRAGMA wal_checkpoint(TRUNCATE)',
  /** Undelivered events that carry the message's text get the tombstone instead (see MessageEdits). */
  scrubCreated: `UPDATE webhook_outbox SET payload = ? WHERE queue = ? AND type = 'message.created'
    AND json_extract(payload, '$.seq') = ?`,
  scrubUpdated: `UPDATE webhook_outbox SET payload = ? WHERE queue = ? AND type = 'message.updated'
    AND json_extract(payload, '$.message.seq') = ?`,
} as const;

/**
 * MessageEdits on the SQLite store: every change runs in the store's group commit (SqliteMessageStore.transact), so
 * it is serialised with the appends. Deletion: PRAGMA secure_delete zeroes the freed text in the file, the FTS5
 * index (secure-delete) drops the tokens instead of marking them, and a TRUNCATE checkpoint after the commit copies the WAL into the file and empties it, so the old text is nowhere on disk.
 */
export class SqliteMessageEdits extends MessageEdits {
  private stmts?: Record<keyof typeof SQL, StatementSync>;

  constructor(private readonly store: SqliteMessageStore) {
    super();
  }

  private get sql(): Record<keyof typeof SQL, StatementSync> {
    const db = this.store.database();
    this.stmts ??= Object.fromEntries(
      Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)]),
    ) as Record<keyof typeof SQL, StatementSync>;
    return this.stmts;
  }

  override get(room: string, seq: number): Promise<StoredMessage | undefined> {
    return settle(() => this.read(room, seq));
  }

  private read(room: string, seq: number): StoredMessage | undefined {
    const row = this.sql.get.get(room, seq) as MessageRow | undefined;
    return row && rowToMessage(row);
  }

  override edit(
    room: string,
    seq: number,
    change: { text: string; mentions?: string[]; editedAt: number },
  ): Promise<StoredMessage | undefined> {
    return this.store.transact(() => {
      const before = this.read(room, seq);
      if (!before || before.deleted) return [undefined, []];
      const mentions = change.mentions?.length ? [...new Set(change.mentions)] : undefined;
      this.sql.edit.run(
        change.text,
        change.editedAt,
        mentions ? JSON.stringify(mentions) : null,
        room,
        seq,
      );
      this.sql.dropMentions.run(room, seq);
      for (const user of mentions ?? []) this.sql.mention.run(room, seq, user);
      const message = this.read(room, seq)!;
      return [message, [event('message.updated', room, { message })]];
    });
  }

  override async delete(room: string, seq: number, by: string): Promise<DeleteOutcome | undefined> {
    const outcome = await this.store.transact<DeleteOutcome | undefined>(() => {
      const before = this.read(room, seq);
      if (!before) return [undefined, []];
      if (before.deleted) return [{ message: before, changed: false }, []];
      this.sql.tombstone.run(room, seq);
      this.sql.dropMentions.run(room, seq);
      this.sql.dropReactions.run(room, seq);
      const message = this.read(room, seq)!;
      this.sql.scrubCreated.run(JSON.stringify(message), `message ${room}`, seq);
      this.sql.scrubUpdated.run(JSON.stringify({ message }), `message ${room}`, seq);
      const data = { room, seq, userId: before.userId, by };
      return [{ message, changed: true }, [event('message.deleted', room, data)]];
    });
    if (outcome?.changed) this.checkpoint();
    return outcome;
  }

  /**
   * Empties the -wal file into the database once the deletion committed (before the caller hears of it). Several
   * deletions of one turn: the first checkpoint empties the WAL, the others find it empty.
   */
  private checkpoint(): void {
    const db = this.store.database();
    // A group commit in progress would hold a transaction: its own deletions checkpoint after it.
    if (!db.isTransaction) this.sql.checkpoint.get();
  }

  override react(
    room: string,
    seq: number,
    change: { reaction: string; userId: string; on: boolean; ts: number },
  ): Promise<ReactOutcome> {
    return this.store.transact<ReactOutcome>(() => {
      const message = this.read(room, seq);
      if (!message || message.deleted) return [{ status: 'not_found' }, []];
      const { reaction, userId, on } = change;
      const reactions = message.reactions ?? {};
      if (on && reactions[reaction] === undefined) {
        if (Object.keys(reactions).length >= MAX_REACTIONS_PER_MESSAGE) {
          return [{ status: 'limit' }, []];
        }
      }
      const changed = on
        ? this.sql.addReaction.run(room, seq, reaction, userId, change.ts).changes > 0
        : this.sql.removeReaction.run(room, seq, reaction, userId).changes > 0;
      if (!changed) {
        return [{ status: 'ok', changed, reactions, count: reactions[reaction] ?? 0 }, []];
      }
      const next = countReaction(reactions, reaction, on ? 1 : -1);
      const json = Object.keys(next).length > 0 ? JSON.stringify(next) : null;
      this.sql.setReactions.run(json, room, seq);
      const count = next[reaction] ?? 0;
      const data = { room, seq, reaction, userId, on, count };
      return [
        { status: 'ok', changed, reactions: next, count },
        [event('message.reacted', room, data)],
      ];
    });
  }

  override reactors(
    room: string,
    seq: number,
    reaction: string,
    limit: number,
  ): Promise<string[] | undefined> {
    return settle(() => {
      const message = this.read(room, seq);
      if (!message || message.deleted) return undefined;
      const rows = this.sql.reactors.all(room, seq, reaction, limit) as { user_id: string }[];
      return rows.map((r) => r.user_id);
    });
  }

  override thread(
    room: string,
    seq: number,
    after: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    return settle(() =>
      (this.sql.thread.all(room, seq, after, limit) as unknown as MessageRow[]).map(rowToMessage),
    );
  }

  override async search(
    room: string,
    words: readonly string[],
    before: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    if (words.length === 0) return [];
    await this.store.indexed(); // the messages acknowledged so far are found
    return settle(() => {
      const below = this.sql.rowidBelow.get(room, before) as { id: number } | undefined;
      if (!below) return [];
      // Words are letters and digits only (searchWords), so quoting them cannot break the expression.
      const hexRoom = Buffer.from(room, 'utf8').toString('hex').toUpperCase();
      const match = [`r : "${hexRoom}"`, ...words.map((w) => `body : "${w}"`)].join(' AND ');
      const rows = this.sql.search.all(match, below.id, room, before, limit);
      return (rows as unknown as MessageRow[]).map(rowToMessage);
    });
  }
}
