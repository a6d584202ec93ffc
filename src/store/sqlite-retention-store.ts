import { RetentionStore } from './retention-store';
import type { SqliteMessageStore } from './sqlite-message-store';
import { prepared } from './sqlite-statements';
import { settle } from '../common/settle';

const ROOMS = 'SELECT room FROM rooms WHERE room > ? ORDER BY room LIMIT ?';
const OLDEST = 'SELECT ts FROM messages WHERE room = ? ORDER BY seq LIMIT 1';
const HEAD = 'SELECT seq, ts FROM messages WHERE room = ? ORDER BY seq LIMIT ?';
const DELETE_UP_TO = 'DELETE FROM messages WHERE room = ? AND seq <= ?';

/**
 * Retention on the SQLite store. Each purge is one batch of the store's group commit (its own short transaction,
 * on its own turn of the event loop), so appends and pings go on between two batches. `secure_delete` is on
 * (the store's connection), so the deleted rows' bytes are zeroed in the file. One instance per file: the sweep
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
      // Mentions, reactions and full-text rows go with their message (the messages_erased trigger).
      prepared(db, DELETE_UP_TO).run(room, Number(head[last].seq));
      return [last + 1, []];
    });
  }

  override exclusively<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return fn();
  }
}
