import { MessageStore } from './message-store';
import { PostgresMessageStore } from './postgres-message-store';
import { SqliteMessageStore } from './sqlite-message-store';
import type { WebhookOutbox } from './webhook-outbox';

/**
 * PostgreSQL when a database URL is configured (needed to run several server
 * processes against one log), otherwise the single-node SQLite file.
 * Both also hold the webhook outbox; with `webhooks: true` each new message
 * writes its `message.created` event in its own transaction.
 * The returned store is not initialised yet: call init().
 */
export function createMessageStore(opts: {
  databaseUrl?: string;
  sqlitePath: string;
  webhooks?: boolean;
}): MessageStore & WebhookOutbox {
  const outbox = opts.webhooks ?? false;
  return opts.databaseUrl
    ? new PostgresMessageStore({ url: opts.databaseUrl, outbox })
    : new SqliteMessageStore({ path: opts.sqlitePath, outbox });
}
