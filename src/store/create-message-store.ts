import { MessageStore } from './message-store';
import { PostgresMessageStore } from './postgres-message-store';
import { SqliteMessageStore } from './sqlite-message-store';

/**
 * PostgreSQL when a database URL is configured (needed to run several server
 * processes against one log), otherwise the single-node SQLite file.
 * The returned store is not initialised yet: call init().
 */
export function createMessageStore(opts: {
  databaseUrl?: string;
  sqlitePath: string;
}): MessageStore {
  return opts.databaseUrl
    ? new PostgresMessageStore({ url: opts.databaseUrl })
    : new SqliteMessageStore({ path: opts.sqlitePath });
}
