/**
 * The read markers' table in both SQL stores (chat/read-markers.ts is the concept), side by side so the twins stay
 * alike. One row per (user, room): `seq` is the last message the user has read, `updated_at` when it last moved
 * (the least recently moved marker goes first when a user holds too many). The two users of every `dm:` room
 * already stored get a marker at 0, so that their conversations are listed by `chat.unread` (new ones get theirs
 * when their first message is stored).
 */

/** `dm:<a>:<b>` rooms (user ids of a dm room hold no `:`). */
const SQLITE_DM = `room GLOB 'dm:*:*' AND NOT room GLOB 'dm:*:*:*'`;
const SQLITE_A = `substr(room, 4, instr(substr(room, 4), ':') - 1)`;
const SQLITE_B = `substr(room, 4 + instr(substr(room, 4), ':'))`;
const SQLITE_NOW = `CAST(strftime('%s', 'now') AS INTEGER) * 1000`;

export const SQLITE_READ_MARKERS_MIGRATION = `
  CREATE TABLE read_markers (
    user_id    TEXT NOT NULL,
    room       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, room)
  ) WITHOUT ROWID;
  CREATE INDEX read_markers_user_updated ON read_markers (user_id, updated_at);
  INSERT OR IGNORE INTO read_markers (user_id, room, seq, updated_at)
    SELECT ${SQLITE_A}, room, 0, ${SQLITE_NOW} FROM rooms WHERE ${SQLITE_DM};
  INSERT OR IGNORE INTO read_markers (user_id, room, seq, updated_at)
    SELECT ${SQLITE_B}, room, 0, ${SQLITE_NOW} FROM rooms WHERE ${SQLITE_DM};`;

const POSTGRES_DM = `room LIKE 'dm:%' AND array_length(string_to_array(room, ':'), 1) = 3`;
const POSTGRES_NOW = `(extract(epoch FROM now()) * 1000)::bigint`;

export const POSTGRES_READ_MARKERS_MIGRATION = `
  CREATE TABLE read_markers (
    user_id    text NOT NULL,
    room       text NOT NULL,
    seq        bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (user_id, room)
  );
  CREATE INDEX read_markers_user_updated ON read_markers (user_id, updated_at);
  INSERT INTO read_markers (user_id, room, seq, updated_at)
    SELECT split_part(room, ':', 2), room, 0, ${POSTGRES_NOW} FROM rooms WHERE ${POSTGRES_DM}
    UNION
    SELECT split_part(room, ':', 3), room, 0, ${POSTGRES_NOW} FROM rooms WHERE ${POSTGRES_DM}
    ON CONFLICT DO NOTHING;`;
