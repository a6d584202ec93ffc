/**
 * The chat-lifecycle schema (edits, tombstones, replies, mentions, reactions, full-text search) of both stores.
 *
 * Columns on `messages`: `reply_to` (seq of the same room), `mentions` (user ids: SQLite JSON text, PostgreSQL
 * text[]), `edited_at` (ms), `deleted` (SQLite 0/1, PostgreSQL boolean), `reactions` (JSON `{reaction: count}`).
 * Tables `message_mentions(room, seq, user_id)` and `message_reactions(room, seq, reaction, user_id, ts)`: their rows
 * go away with their message (SQLite: a trigger; PostgreSQL: ON DELETE CASCADE), so retention and erasure that delete
 * whole messages need not know about them.
 *
 * Search, alike on both stores: a word is a run of letters and digits, compared lowercased (SQLite FTS5 `unicode61`
 * without diacritics folding; PostgreSQL the 'simple' parser over the text with everything but letters and digits
 * turned into spaces). The query's words are split the same way in TypeScript (see search-terms.ts).
 * - SQLite: `messages_fts`, a contentless FTS5 table keyed by the message's rowid, with `secure-delete` on: a row for
 *   every message that is not deleted (written by the append; see migration 5), removed (its tokens erased from the index, not marked)
 *   when the message is deleted or its text changes. Column `r` holds hex(room), so a room's search reads only
 *   that room's entries. The rowid of `messages` is not an alias of a declared key: a VACUUM may renumber it, so
 *   Hubbub never runs one (rebuild the index with `messages_fts` 'delete-all' and a re-insert after a manual one).
 * - PostgreSQL: the generated column `tsv` with a GIN index (empty for a deleted message, whose text is "").
 */

export const SQLITE_CHAT_LIFECYCLE_MIGRATION = `
  ALTER TABLE messages ADD COLUMN reply_to INTEGER;
  ALTER TABLE messages ADD COLUMN mentions TEXT;
  ALTER TABLE messages ADD COLUMN edited_at INTEGER;
  ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN reactions TEXT;
  CREATE INDEX messages_thread ON messages (room, reply_to, seq) WHERE reply_to IS NOT NULL;
  CREATE INDEX messages_user ON messages (user_id);
  CREATE TABLE message_mentions (
    room    TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (room, seq, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX message_mentions_user ON message_mentions (user_id, room, seq);
  CREATE TABLE message_reactions (
    room     TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    reaction TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    ts       INTEGER NOT NULL,
    PRIMARY KEY (room, seq, reaction, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX message_reactions_user ON message_reactions (user_id);
  CREATE VIRTUAL TABLE messages_fts USING fts5(
    r, body, content = '', tokenize = 'unicode61 remove_diacritics 0');
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
  INSERT INTO messages_fts (rowid, r, body) SELECT rowid, hex(room), text FROM messages WHERE text <> '';
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.deleted = 0 AND new.text <> '' BEGIN
    INSERT INTO messages_fts (rowid, r, body) VALUES (new.rowid, hex(new.room), new.text);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, r, body)
      SELECT 'delete', old.rowid, hex(old.room), old.text WHERE old.deleted = 0 AND old.text <> '';
    INSERT INTO messages_fts (rowid, r, body)
      SELECT new.rowid, hex(new.room), new.text WHERE new.deleted = 0 AND new.text <> '';
  END;
  CREATE TRIGGER messages_erased AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, r, body)
      SELECT 'delete', old.rowid, hex(old.room), old.text WHERE old.deleted = 0 AND old.text <> '';
    DELETE FROM message_mentions WHERE room = old.room AND seq = old.seq;
    DELETE FROM message_reactions WHERE room = old.room AND seq = old.seq;
  END;`;

export const POSTGRES_CHAT_LIFECYCLE_MIGRATION = `
  ALTER TABLE messages
    ADD COLUMN reply_to  bigint,
    ADD COLUMN mentions  text[],
    ADD COLUMN edited_at bigint,
    ADD COLUMN deleted   boolean NOT NULL DEFAULT false,
    ADD COLUMN reactions jsonb,
    ADD COLUMN tsv tsvector GENERATED ALWAYS AS
      (to_tsvector('simple'::regconfig, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))) STORED;
  CREATE INDEX messages_thread ON messages (room, reply_to, seq) WHERE reply_to IS NOT NULL;
  CREATE INDEX messages_user ON messages (user_id);
  -- A small pending list: queries scan it linearly until it is merged into the index.
  CREATE INDEX messages_tsv ON messages USING gin (tsv) WITH (gin_pending_list_limit = 256);
  CREATE TABLE message_mentions (
    room    text NOT NULL,
    seq     bigint NOT NULL,
    user_id text NOT NULL,
    PRIMARY KEY (room, seq, user_id),
    FOREIGN KEY (room, seq) REFERENCES messages (room, seq) ON DELETE CASCADE
  );
  CREATE INDEX message_mentions_user ON message_mentions (user_id, room, seq);
  CREATE TABLE message_reactions (
    room     text NOT NULL,
    seq      bigint NOT NULL,
    reaction text NOT NULL,
    user_id  text NOT NULL,
    ts       bigint NOT NULL,
    PRIMARY KEY (room, seq, reaction, user_id),
    FOREIGN KEY (room, seq) REFERENCES messages (room, seq) ON DELETE CASCADE
  );
  CREATE INDEX message_reactions_user ON message_reactions (user_id);`;

/** SQLite append: one message row (then one SQLITE_INSERT_MENTION per mentioned user). */
export const SQLITE_INSERT_MESSAGE = `INSERT INTO messages
  (id, room, seq, user_id, name, text, ts, client_msg_id, reply_to, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
export const SQLITE_INSERT_MENTION =
  'INSERT OR IGNORE INTO message_mentions (room, seq, user_id) VALUES (?, ?, ?)';

/**
 * SQLite migration 5: new messages are indexed by the store (SQLITE_INDEX_MESSAGE, all of a group commit's at its
 * end), not by the insert trigger of migration 4. FTS5 flushes its pending terms to a new segment whenever a
 * statement opens a savepoint once it is in the transaction (the appends' upserts do): one segment, and its merges,
 * per message, ~25 µs of CPU per append; the inserts together at the end of the batch cost ~4 µs each. Edits and
 * deletions keep their triggers (any writer's).
 */
export const SQLITE_INDEX_ON_APPEND_MIGRATION = 'DROP TRIGGER messages_fts_insert;';

/** The full-text row of a new message (`rowid` the message's; a new message is never deleted nor empty). */
export const SQLITE_INDEX_MESSAGE =
  'INSERT INTO messages_fts (rowid, r, body) VALUES (?, hex(?), ?)';
