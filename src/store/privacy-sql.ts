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

/**
 * SQLite migration 10: a person's messages in a table of their own, `message_authors (user_id, room, seq)`, in place
 * of the index `messages_by_user`. An index is written with every append, and the appends of one group commit,
 * from many users, dirty as many of its pages (the chat bench: ~20 pages per commit); the table's rows are written
 * in bulk with the full-text rows (SqliteDerivedRows), so a user's rows of 100 ms share a page. Retention's deletes
 * take the rows with them (trigger); an erasure keeps them with the tombstones, like the messages.
 */
export const SQLITE_MESSAGE_AUTHORS_MIGRATION = `
  CREATE TABLE message_authors (
    user_id TEXT NOT NULL,
    room    TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, room, seq)
  ) WITHOUT ROWID;
  INSERT INTO message_authors (user_id, room, seq) SELECT user_id, room, seq FROM messages;
  DROP INDEX messages_by_user;
  CREATE TRIGGER message_authors_gone AFTER DELETE ON messages BEGIN
    DELETE FROM message_authors WHERE user_id = old.user_id AND room = old.room AND seq = old.seq;
  END;`;
