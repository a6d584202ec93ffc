import type { PostgresMessageStore } from '../store/postgres-message-store';
import {
  MAX_MARKERS_PER_USER,
  type MarkerMove,
  type ReadMarker,
  ReadMarkers,
  type RoomUnread,
  scanFrom,
  UNREAD_CAP,
  UNREAD_SCAN_WINDOW,
  type UnreadCounts,
} from './read-markers';

/** Moves one marker forward (made when absent); no row back when it was already there or further. */
const ADVANCE = `INSERT INTO read_markers (user_id, room, seq, updated_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (user_id, room) DO UPDATE SET seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
  WHERE read_markers.seq < EXCLUDED.seq
  RETURNING seq, (xmax = 0) AS inserted`;
/** Many moves in one statement; the rows it made come back (their users may hold too many now). */
const ADVANCE_ALL = `INSERT INTO read_markers (user_id, room, seq, updated_at)
  SELECT u, r, s, $4::bigint FROM unnest($1::text[], $2::text[], $3::bigint[]) AS m(u, r, s)
  ON CONFLICT (user_id, room) DO UPDATE SET seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
  WHERE read_markers.seq < EXCLUDED.seq
  RETURNING user_id, room, (xmax = 0) AS inserted`;
/** Beside the one just made ($2), the user's newest MAX_MARKERS_PER_USER - 1 (by when they moved) stay. */
const EVICT = `DELETE FROM read_markers WHERE user_id = $1 AND room IN (
  SELECT room FROM read_markers WHERE user_id = $1 AND room <> $2
  ORDER BY updated_at DESC, room DESC OFFSET $3)`;
const COUNT = `SELECT
  (SELECT count(*)::int FROM (SELECT 1 FROM messages
    WHERE room = $1 AND seq > $2 AND user_id <> $3 AND NOT deleted LIMIT $4) c) AS unread,
  (SELECT count(*)::int FROM (SELECT 1 FROM message_mentions n
    JOIN messages m ON m.room = n.room AND m.seq = n.seq AND m.user_id <> n.user_id
    WHERE n.user_id = $3 AND n.room = $1 AND n.seq > $2 LIMIT $4) c) AS mentions`;
/** The user's rooms, newest message first, each with its counts, in one statement. */
const ROOMS = `SELECT x.room, x.last_read, x.seq,
  CASE WHEN x.last_read >= x.seq THEN 0 ELSE (SELECT count(*)::int FROM (SELECT 1 FROM messages g
    WHERE g.room = x.room AND g.seq > GREATEST(x.last_read, x.seq - $3) AND g.user_id <> $1
      AND NOT g.deleted LIMIT $4) c) END AS unread,
  CASE WHEN x.last_read >= x.seq THEN 0 ELSE (SELECT count(*)::int FROM (SELECT 1 FROM message_mentions n
    JOIN messages o ON o.room = n.room AND o.seq = n.seq AND o.user_id <> n.user_id
    WHERE n.user_id = $1 AND n.room = x.room AND n.seq > GREATEST(x.last_read, x.seq - $3) LIMIT $4) c)
    END AS mentions
  FROM (SELECT r.room, r.seq AS last_read, coalesce(k.last_seq, 0) AS seq, coalesce(m.ts, 0) AS active
    FROM read_markers r
    LEFT JOIN rooms k ON k.room = r.room
    LEFT JOIN messages m ON m.room = r.room AND m.seq = k.last_seq
    WHERE r.user_id = $1 ORDER BY active DESC, r.room LIMIT $2) x
  ORDER BY x.active DESC, x.room`;

/** Read markers in the PostgreSQL database of the message store, through its pool. */
export class PostgresReadMarkers extends ReadMarkers {
  constructor(private readonly store: PostgresMessageStore) {
    super();
  }

  override async lastRead(userId: string, room: string): Promise<number> {
    const rows = await this.store.query<{ seq: string }>(
      'SELECT seq FROM read_markers WHERE user_id = $1 AND room = $2',
      [userId, room],
    );
    return rows.length ? Number(rows[0].seq) : 0;
  }

  override async advance(userId: string, room: string, seq: number): Promise<number> {
    const rows = await this.store.query<{ seq: string; inserted: boolean }>(ADVANCE, [
      userId,
      room,
      seq,
      Date.now(),
    ]);
    if (rows.length === 0) return this.lastRead(userId, room);
    if (rows[0].inserted) await this.evict(userId, room);
    return Number(rows[0].seq);
  }

  override async advanceAll(moves: readonly MarkerMove[]): Promise<void> {
    // One row per (user, room), the highest seq, in key order (concurrent writers lock rows in the same order).
    const top = new Map<string, MarkerMove>();
    for (const m of moves) {
      const key = JSON.stringify([m.userId, m.room]);
      const had = top.get(key);
      if (!had || had.seq < m.seq) top.set(key, m);
    }
    const rows = [...top.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, m]) => m);
    if (rows.length === 0) return;
    const done = await this.store.query<{ user_id: string; room: string; inserted: boolean }>(
      ADVANCE_ALL,
      [rows.map((m) => m.userId), rows.map((m) => m.room), rows.map((m) => m.seq), Date.now()],
    );
    for (const m of done) if (m.inserted) await this.evict(m.user_id, m.room);
  }

  override async forget(userId: string, room: string, keep: boolean): Promise<void> {
    await (keep
      ? this.store.query(
          'UPDATE read_markers SET seq = 0, updated_at = $3 WHERE user_id = $1 AND room = $2',
          [userId, room, Date.now()],
        )
      : this.store.query('DELETE FROM read_markers WHERE user_id = $1 AND room = $2', [
          userId,
          room,
        ]));
  }

  override async unread(
    userId: string,
    room: string,
    lastRead: number,
    seq: number,
  ): Promise<UnreadCounts> {
    if (lastRead >= seq) return { unread: 0, mentions: 0 };
    const [counts] = await this.store.query<UnreadCounts>(COUNT, [
      room,
      scanFrom(lastRead, seq),
      userId,
      UNREAD_CAP,
    ]);
    return { unread: counts.unread, mentions: counts.mentions };
  }

  override async rooms(userId: string, limit: number): Promise<RoomUnread[]> {
    const rows = await this.store.query<{
      room: string;
      last_read: string;
      seq: string;
      unread: number;
      mentions: number;
    }>(ROOMS, [userId, limit, UNREAD_SCAN_WINDOW, UNREAD_CAP]);
    return rows.map((r) => ({
      room: r.room,
      seq: Number(r.seq),
      lastRead: Number(r.last_read),
      unread: r.unread,
      mentions: r.mentions,
    }));
  }

  override async page(
    userId: string,
    afterRoom: string | undefined,
    limit: number,
  ): Promise<ReadMarker[]> {
    const rows = await this.store.query<{ room: string; seq: string; updated_at: string }>(
      `SELECT room, seq, updated_at FROM read_markers WHERE user_id = $1 AND room > $2
        ORDER BY room LIMIT $3`,
      [userId, afterRoom ?? '', limit],
    );
    return rows.map((r) => ({ room: r.room, seq: Number(r.seq), updatedAt: Number(r.updated_at) }));
  }

  override async erase(userId: string, limit: number): Promise<number> {
    const rows = await this.store.query(
      `DELETE FROM read_markers WHERE user_id = $1 AND room IN (
        SELECT room FROM read_markers WHERE user_id = $1 LIMIT $2) RETURNING room`,
      [userId, limit],
    );
    return rows.length;
  }

  private async evict(userId: string, kept: string): Promise<void> {
    await this.store.query(EVICT, [userId, kept, MAX_MARKERS_PER_USER - 1]);
  }
}
