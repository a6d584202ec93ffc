import type { PoolClient } from 'pg';
import type { StoredMessage } from './message-store';
import {
  countReaction,
  editEvent as event,
  type DeleteOutcome,
  MAX_REACTIONS_PER_MESSAGE,
  MessageEdits,
  type ReactOutcome,
} from './message-edits';
import type { PostgresMessageStore } from './postgres-message-store';
import { MESSAGE_COLUMNS, type MessageRow, rowToMessage } from './sql-common';

const SQL = {
  get: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = $1 AND seq = $2`,
  /** The row lock serialises the changes of one message across instances until COMMIT. */
  lock: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = $1 AND seq = $2 FOR UPDATE`,
  edit: `UPDATE messages SET text = $3, edited_at = $4, mentions = $5 WHERE room = $1 AND seq = $2
    RETURNING ${MESSAGE_COLUMNS}`,
  tombstone: `UPDATE messages SET text = '', name = NULL, mentions = NULL, reactions = NULL, deleted = true
    WHERE room = $1 AND seq = $2 RETURNING ${MESSAGE_COLUMNS}`,
  dropMentions: 'DELETE FROM message_mentions WHERE room = $1 AND seq = $2',
  mentions: `INSERT INTO message_mentions (room, seq, user_id)
    SELECT $1, $2, u FROM unnest($3::text[]) AS u ON CONFLICT DO NOTHING`,
  dropReactions: 'DELETE FROM message_reactions WHERE room = $1 AND seq = $2',
  addReaction: `INSERT INTO message_reactions (room, seq, reaction, user_id, ts) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING`,
  removeReaction:
    'DELETE FROM message_reactions WHERE room = $1 AND seq = $2 AND reaction = $3 AND user_id = $4',
  setReactions: 'UPDATE messages SET reactions = $3 WHERE room = $1 AND seq = $2',
  reactors: `SELECT user_id FROM message_reactions WHERE room = $1 AND seq = $2 AND reaction = $3
    ORDER BY ts, user_id LIMIT $4`,
  thread: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = $1 AND reply_to = $2 AND seq > $3
    ORDER BY seq LIMIT $4`,
  /** Search, first step: the newest SEARCH_WINDOW messages below `before`, read newest first by (room, seq). */
  searchRecent: `SELECT ${MESSAGE_COLUMNS} FROM (
      SELECT ${MESSAGE_COLUMNS}, tsv FROM messages WHERE room = $1 AND seq < $3 ORDER BY seq DESC LIMIT $5) w
    WHERE tsv @@ $2::tsquery AND NOT deleted ORDER BY seq DESC LIMIT $4`,
  /** The seq that ends that window (none: the window holds every message below `before`). */
  windowFloor: `SELECT seq FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC OFFSET $3 - 1 LIMIT 1`,
  /** Second step, below the window: through the GIN index (`seq + 0`: no ordered walk of (room, seq)). */
  searchOlder: `SELECT ${MESSAGE_COLUMNS} FROM messages
    WHERE room = $1 AND tsv @@ $2::tsquery AND seq < $3 AND NOT deleted ORDER BY seq + 0 DESC LIMIT $4`,
} as const;

/** Messages search reads newest first by seq before it turns to the full-text index. */
const SEARCH_WINDOW = 1000;

/**
 * MessageEdits on the PostgreSQL store: each change is one transaction that first locks the message's row, so
 * concurrent changes of one message (any instance) apply one after the other. A deleted text is overwritten in the
 * row (the old row version is dead: no query sees it, VACUUM reclaims it), and `tsv` follows the text.
 */
export class PostgresMessageEdits extends MessageEdits {
  constructor(private readonly store: PostgresMessageStore) {
    super();
  }

  override async get(room: string, seq: number): Promise<StoredMessage | undefined> {
    const [row] = await this.store.query<MessageRow>(SQL.get, [room, seq]);
    return row && rowToMessage(row);
  }

  override edit(
    room: string,
    seq: number,
    change: { text: string; mentions?: string[]; editedAt: number },
  ): Promise<StoredMessage | undefined> {
    return this.store.transact(async (c) => {
      const before = await locked(c, room, seq);
      if (!before || before.deleted) return [undefined, []];
      const mentions = change.mentions?.length ? [...new Set(change.mentions)] : null;
      const { rows } = await c.query<MessageRow>(SQL.edit, [
        room,
        seq,
        change.text,
        change.editedAt,
        mentions,
      ]);
      await c.query(SQL.dropMentions, [room, seq]);
      if (mentions) await c.query(SQL.mentions, [room, seq, mentions]);
      const message = rowToMessage(rows[0]);
      return [message, [event('message.updated', room, { message })]];
    });
  }

  override delete(room: string, seq: number, by: string): Promise<DeleteOutcome | undefined> {
    return this.store.transact<DeleteOutcome | undefined>(async (c) => {
      const before = await locked(c, room, seq);
      if (!before) return [undefined, []];
      if (before.deleted) return [{ message: before, changed: false }, []];
      const { rows } = await c.query<MessageRow>(SQL.tombstone, [room, seq]);
      await c.query(SQL.dropMentions, [room, seq]);
      await c.query(SQL.dropReactions, [room, seq]);
      const data = { room, seq, userId: before.userId, by };
      return [
        { message: rowToMessage(rows[0]), changed: true },
        [event('message.deleted', room, data)],
      ];
    });
  }

  override react(
    room: string,
    seq: number,
    change: { reaction: string; userId: string; on: boolean; ts: number },
  ): Promise<ReactOutcome> {
    return this.store.transact<ReactOutcome>(async (c) => {
      const message = await locked(c, room, seq);
      if (!message || message.deleted) return [{ status: 'not_found' }, []];
      const { reaction, userId, on } = change;
      const reactions = message.reactions ?? {};
      if (on && reactions[reaction] === undefined) {
        if (Object.keys(reactions).length >= MAX_REACTIONS_PER_MESSAGE) {
          return [{ status: 'limit' }, []];
        }
      }
      const { rowCount } = on
        ? await c.query(SQL.addReaction, [room, seq, reaction, userId, change.ts])
        : await c.query(SQL.removeReaction, [room, seq, reaction, userId]);
      if (!rowCount) {
        return [{ status: 'ok', changed: false, reactions, count: reactions[reaction] ?? 0 }, []];
      }
      const next = countReaction(reactions, reaction, on ? 1 : -1);
      const json = Object.keys(next).length > 0 ? JSON.stringify(next) : null;
      await c.query(SQL.setReactions, [room, seq, json]);
      const count = next[reaction] ?? 0;
      const data = { room, seq, reaction, userId, on, count };
      return [
        { status: 'ok', changed: true, reactions: next, count },
        [event('message.reacted', room, data)],
      ];
    });
  }

  override async reactors(
    room: string,
    seq: number,
    reaction: string,
    limit: number,
  ): Promise<string[] | undefined> {
    const message = await this.get(room, seq);
    if (!message || message.deleted) return undefined;
    const rows = await this.store.query<{ user_id: string }>(SQL.reactors, [
      room,
      seq,
      reaction,
      limit,
    ]);
    return rows.map((r) => r.user_id);
  }

  override async thread(
    room: string,
    seq: number,
    after: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const rows = await this.store.query<MessageRow>(SQL.thread, [room, seq, after, limit]);
    return rows.map(rowToMessage);
  }

  override async search(
    room: string,
    words: readonly string[],
    before: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    if (words.length === 0) return [];
    // Each word a quoted lexeme, taken as it is (letters and digits only: see searchWords), all of them required.
    const query = words.map((w) => `'${w}'`).join(' & ');
    // Two steps, so that neither a common word (thousands of matches: the GIN bitmap would fetch them all before
    // sorting) nor two common words that never meet (the planner, taking them as independent, would walk the whole
    // room by seq) is slow: the newest messages by seq first, then the GIN index for what lies below them.
    const [recent, floor] = await Promise.all([
      this.store.query<MessageRow>(SQL.searchRecent, [room, query, before, limit, SEARCH_WINDOW]),
      this.store.query<{ seq: string }>(SQL.windowFloor, [room, before, SEARCH_WINDOW]),
    ]);
    const found = recent.map(rowToMessage);
    if (found.length >= limit || floor.length === 0) return found;
    const older = await this.store.query<MessageRow>(SQL.searchOlder, [
      room,
      query,
      Number(floor[0].seq),
      limit - found.length,
    ]);
    return [...found, ...older.map(rowToMessage)];
  }
}

async function locked(
  c: PoolClient,
  room: string,
  seq: number,
): Promise<StoredMessage | undefined> {
  const { rows } = await c.query<MessageRow>(SQL.lock, [room, seq]);
  return rows[0] && rowToMessage(rows[0]);
}
