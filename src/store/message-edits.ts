/**
 * What happens to a stored message after it was sent: edits, deletion (a tombstone), reactions, and the reads of
 * replies and full-text search. Two implementations beside the stores they work on: SqliteMessageEdits and
 * PostgresMessageEdits, chosen in backends/backend.providers.ts.
 *
 * Guarantees of every implementation:
 * - Each change is one transaction, durable when its promise resolves, and writes its webhook event
 *   (`message.updated`, `message.deleted`, `message.reacted`) to the outbox in that transaction when the store's
 *   outbox is on. A change that does not happen (unknown or deleted message, reaction limit, a repeat) writes nothing.
 * - A deleted message stays as a tombstone: text "", no name, mentions or reactions (their rows are deleted too), and
 *   its text is gone from the store itself (SQLite: the file, the full-text index and the -wal file; PostgreSQL: any
 *   query of the tables), not only hidden.
 * - Search finds the messages holding every given word (words as searchWords() splits them), newest first, never a
 *   deleted one, an edited one by its new text only.
 */
import { randomUUID } from 'node:crypto';
import type { StoredMessage } from './message-store';
import type { OutboxEvent } from './webhook-outbox';

/** Most distinct reactions one message may carry. */
export const MAX_REACTIONS_PER_MESSAGE = 20;
/** Most user ids `reactors` returns. */
export const MAX_REACTORS = 100;

export type ReactOutcome =
  /** No such message, or it is deleted. */
  | { status: 'not_found' }
  /** `on` with a new reaction on a message that already has MAX_REACTIONS_PER_MESSAGE. */
  | { status: 'limit' }
  /** `changed`: false when the user already had (on) or did not have (off) that reaction. */
  | {
      status: 'ok';
      changed: boolean;
      reactions: Record<string, number>;
      /** Users with this reaction now. */
      count: number;
    };

export interface DeleteOutcome {
  /** The tombstone. */
  message: StoredMessage;
  /** false when it was deleted before (deleting is idempotent). */
  changed: boolean;
}

/** The outbox event data of the three changes (also the webhook payloads). */
export interface MessageUpdatedData {
  message: StoredMessage;
}
export interface MessageDeletedData {
  room: string;
  seq: number;
  /** The author. */
  userId: string;
  /** Who deleted it: a user id, or `server` (the server API). */
  by: string;
}
export interface MessageReactedData {
  room: string;
  seq: number;
  reaction: string;
  userId: string;
  on: boolean;
  count: number;
}

export abstract class MessageEdits {
  /** The message, deleted or not; undefined when none has that seq. */
  abstract get(room: string, seq: number): Promise<StoredMessage | undefined>;
  /**
   * Sets the text, `editedAt` and the mentions (the message_mentions rows too) and re-indexes it for search.
   * undefined when the message is unknown or deleted.
   */
  abstract edit(
    room: string,
    seq: number,
    change: { text: string; mentions?: string[]; editedAt: number },
  ): Promise<StoredMessage | undefined>;
  /** Makes it a tombstone (idempotent). undefined when no message has that seq. */
  abstract delete(room: string, seq: number, by: string): Promise<DeleteOutcome | undefined>;
  /** One reaction of one user, on or off; counts kept on the message. */
  abstract react(
    room: string,
    seq: number,
    change: { reaction: string; userId: string; on: boolean; ts: number },
  ): Promise<ReactOutcome>;
  /** Who reacted so (oldest first, at most `limit` ≤ MAX_REACTORS); undefined when the message is unknown or deleted. */
  abstract reactors(
    room: string,
    seq: number,
    reaction: string,
    limit: number,
  ): Promise<string[] | undefined>;
  /** Replies to `seq` with seq > after, ascending, at most `limit` (deleted replies as tombstones). */
  abstract thread(
    room: string,
    seq: number,
    after: number,
    limit: number,
  ): Promise<StoredMessage[]>;
  /** Messages of the room with seq < before holding every word, newest first, at most `limit`. */
  abstract search(
    room: string,
    words: readonly string[],
    before: number,
    limit: number,
  ): Promise<StoredMessage[]>;
}

/**
 * The words of a text as search sees them: runs of letters and decimal digits, lowercased, deduplicated. Both stores
 * index alike (see chat-lifecycle-sql.ts), so a query's words match the same messages on both.
 */
export function searchWords(q: string): string[] {
  return [...new Set(q.toLowerCase().match(/[\p{L}\p{Nd}]+/gu) ?? [])];
}

/** The reaction counts after one user's change (a copy; a count that reaches 0 is dropped). */
export function countReaction(
  reactions: Record<string, number>,
  reaction: string,
  delta: 1 | -1,
): Record<string, number> {
  const next = { ...reactions };
  const count = (next[reaction] ?? 0) + delta;
  if (count > 0) next[reaction] = count;
  else delete next[reaction];
  return next;
}

/** The outbox event of a change, in the room's message lane: after the room's `message.created` events, in order. */
export function editEvent(
  type: 'message.updated' | 'message.deleted' | 'message.reacted',
  room: string,
  data: MessageUpdatedData | MessageDeletedData | MessageReactedData,
): OutboxEvent {
  return { id: randomUUID(), type, ts: Date.now(), data, lane: `message ${room}` };
}
