/**
 * What the privacy e2e files share: the server API calls they make (DELETE is not in support/http.ts), and SQL
 * reads of what each store holds, straight from the store (SQLite: a read-only connection of its own on the file;
 * PostgreSQL: a connection of its own).
 */
import { DatabaseSync } from 'node:sqlite';
import { pgQuery } from '../support/pg-query';

export const API_KEY = 'privacy-test-key';

export async function api(
  base: string,
  method: 'GET' | 'DELETE' | 'POST',
  path: string,
  key: string | null = API_KEY,
): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

/** A SELECT on the store the server under test uses; `?` placeholders on SQLite, `$n` on PostgreSQL. */
export type Sql = <T = Record<string, unknown>>(sqlite: string, postgres?: string) => Promise<T[]>;

export function sqliteReader(path: string): Sql {
  return <T>(q: string) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return Promise.resolve(db.prepare(q).all() as T[]);
    } finally {
      db.close();
    }
  };
}

export function postgresReader(url: string): Sql {
  return <T>(sqlite: string, postgres?: string) => pgQuery<T>(url, postgres ?? sqlite);
}

/** `'x'` as an SQL string literal (test ids only: letters, digits, dashes). */
export const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Writes `count` messages of `userId` into `room`, indexed for search, on a connection of the test's own (one transaction). */
export function fill(
  path: string,
  room: string,
  userId: string,
  count: number,
  text: string,
  ts: number,
): void {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec('BEGIN IMMEDIATE');
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO messages (id, room, seq, user_id, text, ts)
       SELECT lower(hex(randomblob(16))), ?, i, ?, ? || i, ? + i FROM n`,
    ).run(count, room, userId, text, ts);
    db.prepare('INSERT INTO rooms (room, last_seq) VALUES (?, ?)').run(room, count);
    // The search index, as the store writes it for a new message (by a trigger on older schemas).
    const trigger = db
      .prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_fts_insert'",
      )
      .get();
    if (!trigger) {
      db.prepare(
        'INSERT INTO messages_fts (rowid, r, body) SELECT rowid, hex(room), text FROM messages WHERE room = ?',
      ).run(room);
    }
    // The author rows, as the store writes them for a new message (SQLite migration 10 on).
    const authors = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_authors'")
      .get();
    if (authors) {
      db.prepare(
        'INSERT OR IGNORE INTO message_authors (user_id, room, seq) SELECT user_id, room, seq FROM messages WHERE room = ?',
      ).run(room);
    }
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}
