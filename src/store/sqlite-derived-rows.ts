import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { SQLITE_INDEX_MESSAGE } from './chat-lifecycle-sql';

const AUTHOR = 'INSERT OR IGNORE INTO message_authors (user_id, room, seq) VALUES (?, ?, ?)';

/** New messages indexed together once this many wait (else after INDEX_DELAY_MS). */
export const INDEX_BATCH = 512;
/** Longest a new message waits for its full-text row when no reader asks for it. */
export const INDEX_DELAY_MS = 100;

/**
 * The rows derived from new messages on SQLite, their full-text row (`messages_fts`) and their author row
 * (`message_authors`), written in bulk rather than with each group commit. FTS5 turns each flush into a new
 * segment, merged with the others later, and the appends of one commit, from many users, dirty as many pages of
 * the authors' table: one per INDEX_BATCH messages or INDEX_DELAY_MS costs little. The rows are derived data,
 * written inside the store's group commits:
 * - every transaction that changes or deletes messages (`SqliteMessageStore.transact`) writes them first, so an
 *   edit, a delete, an erasure or a retention purge always finds its message's rows there;
 * - a search or an export first asks for them (`SqliteMessageStore.indexed`): it sees every acknowledged message;
 * - a crash loses only rows, never messages: at open, the messages past the last indexed rowid are indexed again.
 * Rows are forgotten only when the transaction that wrote them committed; a batch that fails drops the appends it
 * added (their rowids were rolled back and may be used again).
 */
export class SqliteDerivedRows {
  private pending: [number | bigint, string, number, string, string][] = [];
  /** How many of `pending` the open transaction wrote. */
  private written = 0;
  /** `pending`'s length when the open transaction started. */
  private before = 0;
  private readonly insert: StatementSync;
  private readonly author: StatementSync;
  private timer?: NodeJS.Timeout;

  constructor(db: DatabaseSync) {
    this.insert = db.prepare(SQLITE_INDEX_MESSAGE);
    this.author = db.prepare(AUTHOR);
  }

  /** Indexes what a crash left out (the messages past the highest indexed rowid); inside a transaction. */
  static catchUp(db: DatabaseSync): void {
    const top = db
      .prepare('SELECT rowid AS id FROM messages_fts ORDER BY rowid DESC LIMIT 1')
      .get();
    db.prepare(
      `INSERT INTO messages_fts (rowid, r, body) SELECT rowid, hex(room), text FROM messages
        WHERE rowid > ? AND deleted = 0 AND text <> '' ORDER BY rowid`,
    ).run(top ? top.id : 0);
  }

  get size(): number {
    return this.pending.length;
  }

  /** Due now: enough waiting to be worth a segment. */
  get due(): boolean {
    return this.pending.length >= INDEX_BATCH;
  }

  /** A group commit begins. */
  begin(): void {
    this.before = this.pending.length;
    this.written = 0;
  }

  /** A new message of the open transaction. */
  add(rowid: number | bigint, room: string, seq: number, userId: string, text: string): void {
    this.pending.push([rowid, room, seq, userId, text]);
  }

  /** Writes the rows not yet written in the open transaction. */
  write(): void {
    for (let i = this.written; i < this.pending.length; i++) {
      const [id, room, seq, userId, text] = this.pending[i];
      this.insert.run(id, room, text);
      this.author.run(userId, room, seq);
    }
    this.written = this.pending.length;
  }

  /** The open transaction committed: what it wrote is in the index; `later` runs INDEX_DELAY_MS on if rows wait. */
  committed(later: () => void): void {
    this.pending.splice(0, this.written);
    this.written = 0;
    if (this.pending.length > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        later();
      }, INDEX_DELAY_MS).unref();
    }
  }

  /** The store closes: no timer left behind. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The open transaction rolled back: its appends are gone, and so are the rows it wrote. */
  rolledBack(): void {
    this.pending.length = this.before;
    this.written = 0;
  }
}
