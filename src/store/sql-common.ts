/** Helpers shared by the SQL-backed MessageStore implementations. */
import type { HistoryQuery, NewMessage, StoredMessage } from './message-store';

/** Row shape shared by both SQL backends (snake_case columns). */
export interface MessageRow {
  id: string;
  room: string;
  seq: number | string | bigint;
  user_id: string;
  name: string | null;
  text: string;
  ts: number | string | bigint;
  client_msg_id: string | null;
  /** Absent in rows from before the chat-lifecycle migration's columns were read (the v1 append function). */
  reply_to?: number | string | bigint | null;
  /** SQLite: JSON text; PostgreSQL: text[]. */
  mentions?: string | string[] | null;
  edited_at?: number | string | bigint | null;
  /** SQLite: 0/1; PostgreSQL: boolean. */
  deleted?: number | bigint | boolean | null;
  /** SQLite: JSON text; PostgreSQL: jsonb (parsed by pg). */
  reactions?: string | Record<string, number> | null;
}

/** Maps a DB row to a StoredMessage, dropping NULL optionals and converting bigints. */
export function rowToMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = {
    id: r.id,
    room: r.room,
    seq: Number(r.seq),
    userId: r.user_id,
    text: r.text,
    ts: Number(r.ts),
  };
  if (r.name != null) m.name = r.name;
  if (r.client_msg_id != null) m.clientMsgId = r.client_msg_id;
  if (r.reply_to != null) m.replyTo = Number(r.reply_to);
  if (r.mentions != null) {
    const mentions =
      typeof r.mentions === 'string' ? (JSON.parse(r.mentions) as string[]) : r.mentions;
    if (mentions.length > 0) m.mentions = mentions;
  }
  if (r.edited_at != null) m.editedAt = Number(r.edited_at);
  if (r.deleted === true || (r.deleted != null && Number(r.deleted) === 1)) m.deleted = true;
  if (r.reactions != null) {
    const reactions =
      typeof r.reactions === 'string'
        ? (JSON.parse(r.reactions) as Record<string, number>)
        : r.reactions;
    if (Object.keys(reactions).length > 0) m.reactions = reactions;
  }
  return m;
}

/** Normalised limit: non-negative integer. */
export function clampLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
}

/** The columns a StoredMessage is read from (see rowToMessage). */
export const MESSAGE_COLUMNS =
  'id, room, seq, user_id, name, text, ts, client_msg_id, reply_to, mentions, edited_at, deleted, reactions';

/**
 * SQL for history() shared by both backends; `ph(n)` renders the n-th (1-based)
 * placeholder (`?` for SQLite, `$n` for PostgreSQL). When `after` is given we
 * want the oldest rows past it (ASC); otherwise the newest rows (DESC, then the
 * caller reverses so results are always ascending).
 */
export function buildHistoryQuery(
  q: HistoryQuery,
  ph: (n: number) => string,
): { sql: string; params: unknown[]; reverse: boolean } {
  const params: unknown[] = [q.room];
  let where = `room = ${ph(1)}`;
  if (q.before !== undefined) {
    params.push(q.before);
    where += ` AND seq < ${ph(params.length)}`;
  }
  if (q.after !== undefined) {
    params.push(q.after);
    where += ` AND seq > ${ph(params.length)}`;
  }
  const reverse = q.after === undefined;
  params.push(clampLimit(q.limit));
  const sql =
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where} ` +
    `ORDER BY seq ${reverse ? 'DESC' : 'ASC'} LIMIT ${ph(params.length)}`;
  return { sql, params, reverse };
}

/**
 * Rejects malformed input before it is queued, so one bad message cannot fail
 * a whole group-commit batch (or hit a NOT NULL constraint mid-transaction).
 */
export function assertNewMessage(m: NewMessage): void {
  const bad = (k: string) => new TypeError(`append: ${k} must be a string`);
  if (typeof m?.room !== 'string') throw bad('room');
  if (typeof m.userId !== 'string') throw bad('userId');
  if (typeof m.text !== 'string') throw bad('text');
  if (m.name !== undefined && typeof m.name !== 'string') throw bad('name');
  if (m.clientMsgId !== undefined && typeof m.clientMsgId !== 'string') throw bad('clientMsgId');
  if (m.replyTo !== undefined && !(Number.isSafeInteger(m.replyTo) && m.replyTo > 0)) {
    throw new TypeError('append: replyTo must be a positive integer');
  }
  if (m.mentions !== undefined && !m.mentions.every((u) => typeof u === 'string')) {
    throw new TypeError('append: mentions must be strings');
  }
}
