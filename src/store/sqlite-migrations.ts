import type { DatabaseSync } from 'node:sqlite';
import {
  SQLITE_CHAT_LIFECYCLE_MIGRATION,
  SQLITE_INDEX_ON_APPEND_MIGRATION,
} from './chat-lifecycle-sql';
import { SQLITE_MODERATION_MIGRATION } from './moderation-sql';
import { SQLITE_OUTBOX_LANES_MIGRATION } from './outbox-sql';
import { SQLITE_READ_MARKERS_MIGRATION } from './read-markers-sql';
import {
  DROP_REDUNDANT_USER_INDEX_MIGRATION,
  SQLITE_MESSAGE_AUTHORS_MIGRATION,
  SQLITE_PRIVACY_MIGRATION,
} from './privacy-sql';

/** Ordered, append-only schema steps. Never edit a shipped step: add a new one. */
export const SQLITE_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'rooms and messages',
    sql: `
      CREATE TABLE rooms (
        room     TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL
      );
      CREATE TABLE messages (
        id            TEXT NOT NULL UNIQUE,
        room          TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        user_id       TEXT NOT NULL,
        name          TEXT,
        text          TEXT NOT NULL,
        ts            INTEGER NOT NULL,
        client_msg_id TEXT,
        UNIQUE (room, seq),                    -- also serves history() range scans
        UNIQUE (room, user_id, client_msg_id)  -- idempotency; NULL client ids never collide
      );`,
  },
  {
    version: 2,
    name: 'webhook outbox',
    sql: `
      CREATE TABLE webhook_outbox (
        id              TEXT PRIMARY KEY,
        type            TEXT NOT NULL,
        payload         TEXT NOT NULL,     -- JSON of the event's data
        ts              INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until     INTEGER            -- a dispatcher holds it until then; delivered rows are deleted
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);`,
  },
  { version: 3, name: 'webhook outbox lanes', sql: SQLITE_OUTBOX_LANES_MIGRATION },
  { version: 4, name: 'chat lifecycle', sql: SQLITE_CHAT_LIFECYCLE_MIGRATION },
  { version: 5, name: 'search index written by the append', sql: SQLITE_INDEX_ON_APPEND_MIGRATION },
  { version: 6, name: 'read markers', sql: SQLITE_READ_MARKERS_MIGRATION },
  { version: 7, name: 'room moderation', sql: SQLITE_MODERATION_MIGRATION },
  { version: 8, name: 'messages by user, pending erasures', sql: SQLITE_PRIVACY_MIGRATION },
  { version: 9, name: 'one index of messages by user', sql: DROP_REDUNDANT_USER_INDEX_MIGRATION },
  { version: 10, name: 'message authors written in bulk', sql: SQLITE_MESSAGE_AUTHORS_MIGRATION },
];

/** Runs fn in BEGIN IMMEDIATE (take the write lock up front: no lock-upgrade deadlock). */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const r = fn();
    db.exec('COMMIT');
    return r;
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

/** Applies pending SQLITE_MIGRATIONS in one transaction, recording each in schema_migrations. */
export function migrate(db: DatabaseSync): void {
  transaction(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const done = new Set(
      db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => Number(r.version)),
    );
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }
  });
}
