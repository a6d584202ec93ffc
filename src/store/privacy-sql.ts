/**
 * Schema of the data-of-a-person features (export, erasure, retention), both stores.
 * - `messages_by_user`: a person's messages in (room, seq) order, for the export and the erasure in pages.
 * - `user_erasures`: an erasure asked for and not finished yet (resumed at start and by the sweep), so an erasure
 *   that a crash cut short is finished without anyone asking again.
 */
export const SQLITE_PRIVACY_MIGRATION = `
  CREATE INDEX messages_by_user ON messages (user_id, room, seq);
  CREATE TABLE user_erasures (
    user_id      TEXT PRIMARY KEY,
    id           TEXT NOT NULL,      -- the id of its user.erased webhook
    requested_at INTEGER NOT NULL
  );`;

export const POSTGRES_PRIVACY_MIGRATION = `
  CREATE INDEX messages_by_user ON messages (user_id, room, seq);
  CREATE TABLE user_erasures (
    user_id      text PRIMARY KEY,
    id           uuid NOT NULL,
    requested_at bigint NOT NULL
  );`;

/**
 * `messages_user (user_id)` (chat lifecycle) is a prefix of `messages_by_user (user_id, room, seq)`: one index less
 * for every append to write (both stores).
 */
export const DROP_REDUNDANT_USER_INDEX_MIGRATION = `DROP INDEX IF EXISTS messages_user;`;
