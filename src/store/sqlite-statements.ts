import type { DatabaseSync, StatementSync } from 'node:sqlite';

const cache = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** The statement for `sql` on `db`, prepared once per database (the store's twins share its connection). */
export function prepared(db: DatabaseSync, sql: string): StatementSync {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map<string, StatementSync>()));
  let stmt = statements.get(sql);
  if (!stmt) statements.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}
