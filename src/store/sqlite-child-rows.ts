import type { DatabaseSync } from 'node:sqlite';

/**
 * The rows that hang off messages (mentions, reactions, the full-text index), removed with the messages they
 * belong to. Until those tables exist there is nothing to remove.
 */
export function deleteChildRowsUpTo(_db: DatabaseSync, _room: string, _upTo: number): void {}

/** Removes the child rows of the user's messages in (room, seq) range (`from`, `to`]. */
export function deleteChildRowsOfUser(
  _db: DatabaseSync,
  _userId: string,
  _from: readonly [string, number],
  _to: readonly [string, number],
): void {}
