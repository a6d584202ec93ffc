/**
 * Durable, per-room ordered message log. Two implementations:
 * SqliteMessageStore (single node, file on disk) and PostgresMessageStore
 * (shared by several server processes). backends/backend.providers.ts picks one from the configuration.
 */

/** A committed message. Optional fields are absent (not null) when unset. */
export interface StoredMessage {
  /** crypto.randomUUID() */
  id: string;
  room: string;
  /** Per-room sequence number: 1, 2, 3, ... with no gaps and no duplicates. */
  seq: number;
  userId: string;
  name?: string;
  text: string;
  /** ms since epoch, Date.now() at append. */
  ts: number;
  /** Client-chosen idempotency key, unique per (room, userId). */
  clientMsgId?: string;
  /** The seq of the message (same room) this one answers. */
  replyTo?: number;
  /** User ids named by `@<userId>` in the text (deduplicated, in order of appearance, at most 20). */
  mentions?: string[];
  /** ms since epoch of the last edit. */
  editedAt?: number;
  /** A tombstone: text "" and no name, mentions or reactions (they were erased from the store). */
  deleted?: true;
  /** Count of users per reaction; absent when nobody reacted. */
  reactions?: Record<string, number>;
}

export interface NewMessage {
  room: string;
  userId: string;
  name?: string;
  text: string;
  clientMsgId?: string;
  replyTo?: number;
  /** Already checked by the caller (who may read the room); stored as given, also as message_mentions rows. */
  mentions?: string[];
}

export interface AppendResult {
  message: StoredMessage;
  /** true when (room, userId, clientMsgId) already existed; `message` is then the original. */
  duplicate: boolean;
}

export interface HistoryQuery {
  room: string;
  before?: number;
  after?: number;
  limit: number;
}

export abstract class MessageStore {
  /** Opens the store and runs pending versioned migrations. */
  abstract init(): Promise<void>;
  /** Resolves only after the message is durably committed. duplicate=true when (room,userId,clientMsgId) existed: returns the original. */
  abstract append(msg: NewMessage): Promise<AppendResult>;
  /** Ascending seq. before: newest `limit` with seq < before; after: oldest `limit` with seq > after; neither: newest `limit`. (both given: seq between them, oldest first, limit). */
  abstract history(q: HistoryQuery): Promise<StoredMessage[]>;
  abstract lastSeq(room: string): Promise<number>; // 0 for an empty room
  /**
   * The oldest seq still stored in the room; lastSeq + 1 when none is (an empty room: 1). Seqs below it were deleted
   * for good (retention); those from it to lastSeq are all there (deleted messages stay as tombstones).
   */
  abstract firstSeq(room: string): Promise<number>;
  abstract ping(): Promise<void>; // throws when the store does not answer (readiness probe)
  abstract close(): Promise<void>; // flushes pending writes then closes
}
