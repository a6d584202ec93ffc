/**
 * Retention in the message store: deleting a room's oldest messages for good, a small batch at a time. Twins:
 * SqliteRetentionStore and PostgresRetentionStore (chosen in backends/backend.providers.ts); the sweep that uses
 * it (privacy/retention-sweeper.ts) decides what is old.
 *
 * Guarantees: a purge deletes a prefix of the room's log (its oldest messages, stopping at the first one that is
 * not older than the cutoff), so `firstSeq` moves up and the seqs from it to `lastSeq` stay gapless; the rooms
 * table keeps `last_seq`, so new messages go on counting. Each call is one short transaction.
 */
export abstract class RetentionStore {
  /** Up to `limit` rooms ever written to, by name, after `after` (from the start when absent). */
  abstract roomsAfter(after: string | undefined, limit: number): Promise<string[]>;
  /**
   * Deletes for good the room's oldest messages with `ts < before`, at most `limit`, with their child rows
   * (mentions, reactions, full-text rows). Resolves with how many were deleted (fewer than `limit`: none is left).
   */
  abstract purge(room: string, before: number, limit: number): Promise<number>;
  /**
   * Runs `fn` while this instance holds the sweep lock of the store (one sweeper at a time across the instances
   * sharing it); resolves `undefined` at once, without running `fn`, while another instance holds it.
   */
  abstract exclusively<T>(fn: () => Promise<T>): Promise<T | undefined>;
}
