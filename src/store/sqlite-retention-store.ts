import { RetentionStore } from './retention-store';
import type { SqliteMessageStore } from './sqlite-message-store';
import { prepared } from './sqlite-statements';
import { settle } from '../common/settle';

const ROOMS = 'SELECT room FROM rooms WHERE room > ? ORDER BY room LIMIT ?';
const OLDEST = 'SELECT ts FROM messages WHERE room = ? ORDER BY seq LIMIT 1';
const HEAD = 'SELECT seq, ts FROM messages WHERE room = ? ORDER BY seq LIMIT ?';
const DELETE_UP_TO = 'DELETE FROM messages WHERE room = ? AND seq <= ?';
/** FTS5's secure-delete, off for the purge's own transaction and on again before its COMMIT. */
const FTS_SECURE_DELETE = (on: 0 | 1): string =>
  `INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', ${on})`;

/**
 * Retention on the SQLite store. Each purge is one batch of the store's group commit (its own short transaction,
 * on its own turn of the event loop), so appends and pings go on between two batches. `secure_delete` is on
 * (the store's connection), so the deleted rows' bytes are zeroed in the file; the full-text index drops their
 * entries as it merges its segments (see purge). One instance per file: the sweep
 * lock is the process itself.
 */
export class SqliteRetentionStore extends RetentionStore {
  constructor(private readonly store: SqliteMessageStore) {
    super();
  }

  override roomsAfter(after: string | undefined, limit: number): Promise<string[]> {
    return settle(() =>
      prepared(this.store.database(), ROOMS)
        .all(after ?? '', limit)
        .map((r) => String(r.room)),
    );
  }

  override async purge(room: string, before: number, limit: number): Promise<number> {
    // A look at the oldest message first, outside any write: most rooms have nothing to purge.
    const oldest = await settle(
      () => prepared(this.store.database(), OLDEST).get(room) as { ts: number } | undefined,
    );
    if (!oldest || Number(oldest.ts) >= before) return 0;
    return this.store.transact((db) => {
      const head = prepared(db, HEAD).all(room, limit) as { seq: number; ts: number }[];
      let last = -1;
      while (last + 1 < head.length && Number(head[last + 1].ts) < before) last++;
      if (last < 0) return [0, []];
      // Mentions, reactions and full-text rows go with their message (the messages_erased trigger). The full-text
      // entries are deleted the plain FTS5 way here, with delete markers merged away as the index merges its
      // segments: a secure-delete of a common word's entry costs ~0.3 ms a row (a 500-row batch held the event
      // loop 160 ms on a 2-vCPU VM). The message rows themselves are zeroed in the file (PRAGMA secure_delete).
      prepared(db, FTS_SECURE_DELETE(0)).run();
      prepared(db, DELETE_UP_TO).run(room, Number(head[last].seq));
      prepared(db, FTS_SECURE_DELETE(1)).run();
      return [last + 1, []];
    });
  }

  override exclusively<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return fn();
  }
}
