import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { settle } from '../common/settle';
import type { SqliteMessageStore } from '../store/sqlite-message-store';
import {
  MAX_MARKERS_PER_USER,
  type MarkerMove,
  type ReadMarker,
  ReadMarkers,
  type RoomUnread,
  scanFrom,
  UNREAD_CAP,
  type UnreadCounts,
} from './read-markers';

/** Rooms whose counts are read in one turn of the event loop (see rooms()). */
const ROOMS_PER_TURN = 10;

const SQL = {
  get: 'SELECT seq FROM read_markers WHERE user_id = ? AND room = ?',
  insert: 'INSERT INTO read_markers (user_id, room, seq, updated_at) VALUES (?, ?, ?, ?)',
  move: 'UPDATE read_markers SET seq = ?, updated_at = ? WHERE user_id = ? AND room = ? AND seq < ?',
  /** Beside the one just made (?2), the user's newest MAX_MARKERS_PER_USER - 1 (by when they moved) stay. */
  evict: `DELETE FROM read_markers WHERE user_id = ?1 AND room IN (
    SELECT room FROM read_markers WHERE user_id = ?1 AND room <> ?2
    ORDER BY updated_at DESC, room DESC LIMIT -1 OFFSET ?3)`,
  drop: 'DELETE FROM read_markers WHERE user_id = ? AND room = ?',
  reset: 'UPDATE read_markers SET seq = 0, updated_at = ? WHERE user_id = ? AND room = ?',
  unread: `SELECT count(*) AS n FROM (SELECT 1 FROM messages
    WHERE room = ? AND seq > ? AND user_id <> ? AND deleted = 0 LIMIT ?)`,
  /** Mentions in other users' messages (a deleted message's are erased with it). */
  mentions: `SELECT count(*) AS n FROM (SELECT 1 FROM message_mentions n
    JOIN messages m ON m.room = n.room AND m.seq = n.seq AND m.user_id <> n.user_id
    WHERE n.user_id = ? AND n.room = ? AND n.seq > ? LIMIT ?)`,
  rooms: `SELECT r.room AS room, r.seq AS last_read, coalesce(k.last_seq, 0) AS seq
    FROM read_markers r
    LEFT JOIN rooms k ON k.room = r.room
    LEFT JOIN messages m ON m.room = r.room AND m.seq = k.last_seq
    WHERE r.user_id = ? ORDER BY coalesce(m.ts, 0) DESC, r.room LIMIT ?`,
  page: `SELECT room, seq, updated_at FROM read_markers WHERE user_id = ? AND room > ?
    ORDER BY room LIMIT ?`,
  erase: `DELETE FROM read_markers WHERE user_id = ?1 AND room IN (
    SELECT room FROM read_markers WHERE user_id = ?1 LIMIT ?2)`,
};

/**
 * Read markers in the SQLite file of the message store, on its connection: writes join its group commit (one
 * fsync with the appends queued beside them), reads run at once.
 */
export class SqliteReadMarkers extends ReadMarkers {
  private readonly statements = new Map<string, StatementSync>();

  constructor(private readonly store: SqliteMessageStore) {
    super();
  }

  override lastRead(userId: string, room: string): Promise<number> {
    return this.read((db) => this.current(db, userId, room) ?? 0);
  }

  override advance(userId: string, room: string, seq: number): Promise<number> {
    return this.store.transact((db) => [this.move(db, Date.now(), { userId, room, seq }), []]);
  }

  override advanceAll(moves: readonly MarkerMove[]): Promise<void> {
    return this.store.transact((db) => {
      const now = Date.now();
      for (const m of moves) this.move(db, now, m);
      return [undefined, []];
    });
  }

  /** One move inside the open group commit; the marker after it. */
  private move(db: DatabaseSync, now: number, { userId, room, seq }: MarkerMove): number {
    // Mostly a marker behind its user's new message: one statement moves it.
    if (this.prepared(db, SQL.move).run(seq, now, userId, room, seq).changes > 0) return seq;
    const was = this.current(db, userId, room);
    if (was === undefined) this.create(db, userId, room, seq, now);
    return Math.max(was ?? 0, seq);
  }

  override forget(userId: string, room: string, keep: boolean): Promise<void> {
    return this.store.transact((db) => {
      if (keep) this.prepared(db, SQL.reset).run(Date.now(), userId, room);
      else this.prepared(db, SQL.drop).run(userId, room);
      return [undefined, []];
    });
  }

  override unread(
    userId: string,
    room: string,
    lastRead: number,
    seq: number,
  ): Promise<UnreadCounts> {
    return this.read((db) => this.counts(db, userId, room, lastRead, seq));
  }

  /**
   * The list in one query, then the counts a few rooms at a time, letting the event loop run between them: the
   * counts of 200 rooms far behind read up to 200,000 rows, which would otherwise hold every socket up at once.
   */
  override async rooms(userId: string, limit: number): Promise<RoomUnread[]> {
    const rows = await this.read(
      (db) =>
        this.prepared(db, SQL.rooms).all(userId, limit) as {
          room: string;
          last_read: number;
          seq: number;
        }[],
    );
    const out: RoomUnread[] = [];
    for (let i = 0; i < rows.length; i += ROOMS_PER_TURN) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = await this.read((db) =>
        rows.slice(i, i + ROOMS_PER_TURN).map((r) => {
          const [seq, lastRead] = [Number(r.seq), Number(r.last_read)];
          return { room: r.room, seq, lastRead, ...this.counts(db, userId, r.room, lastRead, seq) };
        }),
      );
      out.push(...chunk);
    }
    return out;
  }

  override page(
    userId: string,
    afterRoom: string | undefined,
    limit: number,
  ): Promise<ReadMarker[]> {
    return this.read((db) => {
      const rows = this.prepared(db, SQL.page).all(userId, afterRoom ?? '', limit) as {
        room: string;
        seq: number;
        updated_at: number;
      }[];
      return rows.map((r) => ({
        room: r.room,
        seq: Number(r.seq),
        updatedAt: Number(r.updated_at),
      }));
    });
  }

  override erase(userId: string, limit: number): Promise<number> {
    return this.store.transact((db) => [
      Number(this.prepared(db, SQL.erase).run(userId, limit).changes),
      [],
    ]);
  }

  private counts(
    db: DatabaseSync,
    userId: string,
    room: string,
    lastRead: number,
    seq: number,
  ): UnreadCounts {
    if (lastRead >= seq) return { unread: 0, mentions: 0 };
    const from = scanFrom(lastRead, seq);
    const unread = this.prepared(db, SQL.unread).get(room, from, userId, UNREAD_CAP) as {
      n: number;
    };
    const mentions = this.prepared(db, SQL.mentions).get(userId, room, from, UNREAD_CAP) as {
      n: number;
    };
    return { unread: Number(unread.n), mentions: Number(mentions.n) };
  }

  private current(db: DatabaseSync, userId: string, room: string): number | undefined {
    const row = this.prepared(db, SQL.get).get(userId, room) as { seq: number } | undefined;
    return row === undefined ? undefined : Number(row.seq);
  }

  private create(db: DatabaseSync, userId: string, room: string, seq: number, now: number): void {
    this.prepared(db, SQL.insert).run(userId, room, seq, now);
    this.prepared(db, SQL.evict).run(userId, room, MAX_MARKERS_PER_USER - 1);
  }

  /** A read on the store's connection, now (it sees what earlier group commits wrote). */
  private read<T>(fn: (db: DatabaseSync) => T): Promise<T> {
    return settle(() => fn(this.store.database()));
  }

  /** Each statement prepared once on the store's connection. */
  private prepared(db: DatabaseSync, sql: string): StatementSync {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = db.prepare(sql)));
    return stmt;
  }
}
