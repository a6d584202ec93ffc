/**
 * Durable read markers: for each (user, room), the last seq the user has read. Kept in the message store's own
 * database (SqliteReadMarkers, PostgresReadMarkers; chosen in backends/backend.providers.ts), so that unread counts
 * are one query over the messages beside them.
 *
 * Guarantees of both twins:
 * - `advance` moves a marker forward only (a lower seq changes nothing) and is durable when it resolves; a user
 *   holds at most one marker per room and at most MAX_MARKERS_PER_USER in all (a new one past it drops the user's
 *   least recently moved marker).
 * - `unread` counts other users' messages above `lastRead` that are not deleted, at most UNREAD_CAP, looking at the
 *   newest UNREAD_SCAN_WINDOW seqs of the room at most (so one count reads a bounded number of rows); `mentions`
 *   counts, the same way, those that mention the user.
 * - `rooms` lists at most `limit` of the user's markers, the room with the newest message first.
 */

/** Markers one user may hold; a new one past it drops the least recently moved. */
export const MAX_MARKERS_PER_USER = 1000;
/** `unread` and `mentions` never say more than this. */
export const UNREAD_CAP = 1000;
/** A count looks at most at this many of the newest seqs of a room above the marker. */
export const UNREAD_SCAN_WINDOW = 2000;
/** Rooms `chat.unread` and `GET /api/users/:userId/unread` list at most. */
export const UNREAD_ROOMS_LIMIT = 200;

/** A marker to move forward. */
export interface MarkerMove {
  userId: string;
  room: string;
  seq: number;
}

/** One marker as the user's data export has it. */
export interface ReadMarker {
  room: string;
  seq: number;
  /** When it last moved (ms since epoch). */
  updatedAt: number;
}

/** A room of the user's: its last seq, the user's marker, and the counts above it. */
export interface RoomUnread {
  room: string;
  seq: number;
  lastRead: number;
  unread: number;
  mentions: number;
}

export interface UnreadCounts {
  unread: number;
  mentions: number;
}

export abstract class ReadMarkers {
  /** The user's marker in the room; 0 without one. */
  abstract lastRead(userId: string, room: string): Promise<number>;
  /** Moves the user's marker forward to `seq` (made when absent); resolves with the marker after the move. */
  abstract advance(userId: string, room: string, seq: number): Promise<number>;
  /**
   * Moves many markers forward in one write (a move to 0 only makes a marker that is absent); durable when it
   * resolves. Moves of one (user, room) may repeat: the highest counts.
   */
  abstract advanceAll(moves: readonly MarkerMove[]): Promise<void>;
  /** Drops the marker (`keep`: sets it back to 0 instead, for a dm room, which stays listed). */
  abstract forget(userId: string, room: string, keep: boolean): Promise<void>;
  /** The counts above `lastRead` in the room (whose last seq is `seq`). */
  abstract unread(
    userId: string,
    room: string,
    lastRead: number,
    seq: number,
  ): Promise<UnreadCounts>;
  /** The user's rooms with a marker, newest activity first, with their counts. */
  abstract rooms(userId: string, limit: number): Promise<RoomUnread[]>;
  /** The user's markers by room name, after `afterRoom`, at most `limit` (the export). */
  abstract page(
    userId: string,
    afterRoom: string | undefined,
    limit: number,
  ): Promise<ReadMarker[]>;
  /** Deletes at most `limit` of the user's markers; resolves with how many went. */
  abstract erase(userId: string, limit: number): Promise<number>;
}

/** The lowest seq above which a count looks (see UNREAD_SCAN_WINDOW). */
export function scanFrom(lastRead: number, seq: number): number {
  return Math.max(lastRead, seq - UNREAD_SCAN_WINDOW);
}
