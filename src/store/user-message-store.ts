import type { StoredMessage } from './message-store';

/** A message's place: messages of a user are visited in (room, seq) order. */
export interface MessageKey {
  room: string;
  seq: number;
}

/** A reaction a user gave; reactions of a user are visited in (room, seq, reaction) order. */
export interface UserReaction {
  room: string;
  seq: number;
  reaction: string;
  /** ms since epoch. */
  ts: number;
}

/** An erasure asked for and not finished (see UserMessageStore.beginErasure). */
export interface PendingErasure {
  userId: string;
  /** The id of its `user.erased` webhook: the same however often the erasure is resumed. */
  id: string;
  /** ms since epoch. */
  requestedAt: number;
}

/**
 * A person's messages in the message store, for the export and the erasure of that person (privacy/), and the
 * durable journal of erasures under way. Twins: SqliteUserMessageStore, PostgresUserMessageStore.
 *
 * Guarantees: pages are bounded (`limit` rows per call, found through an index on (user_id, room, seq)); an erased
 * message keeps its place (id, room, seq, userId, ts) as a tombstone with `text: ""` and no name, mentions or
 * reactions, so seqs stay gapless; erasing is idempotent (a page already erased is left as it is).
 */
export abstract class UserMessageStore {
  /** Up to `limit` of the user's messages after `after` (from the first when absent), in (room, seq) order. */
  abstract page(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<StoredMessage[]>;
  /**
   * Erases up to `limit` of the user's messages after `after` (one short transaction), with their mentions,
   * reactions and full-text rows. Resolves with the key of the last message visited, `undefined` when none was left.
   */
  abstract erasePage(
    userId: string,
    after: MessageKey | undefined,
    limit: number,
  ): Promise<MessageKey | undefined>;
  /** Up to `limit` of the reactions the user gave, after `after` (from the first when absent). */
  abstract reactionsPage(
    userId: string,
    after: Omit<UserReaction, 'ts'> | undefined,
    limit: number,
  ): Promise<UserReaction[]>;
  /**
   * After the user's messages were erased: undelivered webhook events that carry one of their messages get the
   * tombstone in place of it (as chat.delete does), their `presence.joined` events lose the name, and no erased byte stays readable
   * in the store's files where the store can see to it (SQLite: freed pages are zeroed by `secure_delete`, and the
   * `-wal` file is checkpointed and truncated).
   */
  abstract scrub(userId: string): Promise<void>;
  /** Records that the user's erasure was asked for; resolves with the pending one when there already is one. */
  abstract beginErasure(userId: string): Promise<PendingErasure>;
  /** Every erasure not finished, oldest first. */
  abstract pendingErasures(): Promise<PendingErasure[]>;
  /** The erasure `id` is done (a later one of the same user is left alone). */
  abstract finishErasure(userId: string, id: string): Promise<void>;
}
