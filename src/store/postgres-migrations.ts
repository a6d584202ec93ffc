import { DROP_REDUNDANT_USER_INDEX_MIGRATION, POSTGRES_PRIVACY_MIGRATION } from './privacy-sql';
import { POSTGRES_MODERATION_MIGRATION } from './moderation-sql';
import { POSTGRES_CHAT_LIFECYCLE_MIGRATION } from './chat-lifecycle-sql';
import { POSTGRES_OUTBOX_LANES_MIGRATION } from './outbox-sql';
import { APPEND_BATCH2_FUNCTION_SQL, APPEND_BATCH_FUNCTION_SQL } from './postgres-append-sql';
import { POSTGRES_READ_MARKERS_MIGRATION } from './read-markers-sql';

/** Ordered, append-only schema steps. Never edit a shipped step: add a new one. */
export const POSTGRES_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'rooms and messages',
    sql: `
      CREATE TABLE rooms (
        room     text PRIMARY KEY,
        last_seq bigint NOT NULL
      );
      CREATE TABLE messages (
        id            uuid PRIMARY KEY,
        room          text NOT NULL,
        seq           bigint NOT NULL,
        user_id       text NOT NULL,
        name          text,
        text          text NOT NULL,
        ts            bigint NOT NULL,
        client_msg_id text,
        CONSTRAINT messages_room_seq_key UNIQUE (room, seq),
        CONSTRAINT messages_idempotency_key UNIQUE (room, user_id, client_msg_id)
      );`,
  },
  {
    version: 2,
    name: 'webhook outbox',
    sql: `
      CREATE TABLE webhook_outbox (
        id              uuid PRIMARY KEY,
        type            text NOT NULL,
        payload         text NOT NULL,     -- JSON of the event's data, kept byte for byte
        ts              bigint NOT NULL,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        lease_until     bigint             -- a dispatcher holds it until then; delivered rows are deleted
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);`,
  },
  { version: 3, name: 'group commit function', sql: APPEND_BATCH_FUNCTION_SQL },
  { version: 4, name: 'webhook outbox lanes', sql: POSTGRES_OUTBOX_LANES_MIGRATION },
  { version: 5, name: 'chat lifecycle', sql: POSTGRES_CHAT_LIFECYCLE_MIGRATION },
  { version: 6, name: 'group commit with replies and mentions', sql: APPEND_BATCH2_FUNCTION_SQL },
  { version: 7, name: 'read markers', sql: POSTGRES_READ_MARKERS_MIGRATION },
  { version: 8, name: 'room moderation', sql: POSTGRES_MODERATION_MIGRATION },
  { version: 9, name: 'messages by user, pending erasures', sql: POSTGRES_PRIVACY_MIGRATION },
  { version: 10, name: 'one index of messages by user', sql: DROP_REDUNDANT_USER_INDEX_MIGRATION },
];
