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
