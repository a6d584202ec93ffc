import type { PoolClient } from 'pg';

/**
 * The rows that hang off messages (mentions, reactions), removed with the messages they belong to. Until those
 * tables exist there is nothing to remove.
 */
export async function deleteChildRowsUpTo(
  _c: PoolClient,
  _room: string,
  _upTo: number,
): Promise<void> {}

/** Removes the child rows of the user's messages in (room, seq) range (`from`, `to`]. */
export async function deleteChildRowsOfUser(
  _c: PoolClient,
  _userId: string,
  _from: readonly [string, number],
  _to: readonly [string, number],
): Promise<void> {}
