/**
 * The moderation tables (roles, bans, mutes, room settings, audit log): SQLite migration 7 and PostgreSQL
 * migration 8, listed in each store's migrations. Only rows that say something are stored: a `member` has no
 * role row, a room without rules of its own no settings row.
 */
export const SQLITE_MODERATION_MIGRATION = `
  CREATE TABLE room_roles (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('owner', 'moderator')),
    PRIMARY KEY (room, user_id)
  );
  CREATE INDEX room_roles_user ON room_roles (user_id, room);
  CREATE TABLE room_bans (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    until   INTEGER,
    reason  TEXT,
    PRIMARY KEY (room, user_id)
  );
  CREATE TABLE room_mutes (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    until   INTEGER,
    PRIMARY KEY (room, user_id)
  );
  CREATE TABLE room_settings (
    room           TEXT PRIMARY KEY,
    retention_days INTEGER,
    slow_mode_ms   INTEGER
  );
  CREATE TABLE room_audit (
    room    TEXT NOT NULL,
    ts      INTEGER NOT NULL,
    action  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    by_user TEXT NOT NULL,
    until   INTEGER,
    reason  TEXT,
    detail  TEXT,
    PRIMARY KEY (room, ts)
  );`;

export const POSTGRES_MODERATION_MIGRATION = `
  CREATE TABLE room_roles (
    room    text NOT NULL,
    user_id text NOT NULL,
    role    text NOT NULL CHECK (role IN ('owner', 'moderator')),
    PRIMARY KEY (room, user_id)
  );
  CREATE INDEX room_roles_user ON room_roles (user_id, room);
  CREATE TABLE room_bans (
    room    text NOT NULL,
    user_id text NOT NULL,
    until   bigint,
    reason  text,
    PRIMARY KEY (room, user_id)
  );
  CREATE TABLE room_mutes (
    room    text NOT NULL,
    user_id text NOT NULL,
    until   bigint,
    PRIMARY KEY (room, user_id)
  );
  CREATE TABLE room_settings (
    room           text PRIMARY KEY,
    retention_days integer,
    slow_mode_ms   integer
  );
  CREATE TABLE room_audit (
    room    text NOT NULL,
    ts      bigint NOT NULL,
    action  text NOT NULL,
    user_id text NOT NULL,
    by_user text NOT NULL,
    until   bigint,
    reason  text,
    detail  text,
    PRIMARY KEY (room, ts)
  );`;

export const AUDIT_COLUMNS = 'ts, action, user_id, by_user, until, reason, detail';
