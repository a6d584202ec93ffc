import { randomUUID } from 'node:crypto';
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import type { AppendResult, NewMessage, StoredMessage } from './message-store';
import { assertNewMessage, MESSAGE_COLUMNS, type MessageRow, rowToMessage } from './sql-common';
import { outboxValues } from './webhook-outbox';

export interface AppendBatcherOptions {
  /** Most appends one transaction carries (default 256). */
  maxBatch?: number;
  /** Also write each new message's `message.created` event, in the same transaction. */
  outbox: boolean;
  /** Called after a COMMIT that wrote outbox events. */
  onOutboxCommitted: () => void;
}

interface Pending {
  msg: NewMessage;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** Whole-batch retries after a clientMsgId race or a deadlock/serialization failure, before splitting. */
const MAX_RETRIES = 3;

/**
 * Group commit for PostgreSQL appends. At most one batch transaction is in flight per store; the appends that
 * arrive meanwhile (any room, any user) wait in the queue and go together into the next one:
 *
 *   1. in-batch repeats of (room, userId, clientMsgId) follow the first one: they get its result as a duplicate;
 *   2. one SELECT finds the keys already stored (by an earlier batch or another instance): duplicates too;
 *   3. BEGIN; one `INSERT INTO rooms … ON CONFLICT DO UPDATE SET last_seq = last_seq + n RETURNING` bumps every
 *      room of the batch by its count (creating missing counter rows). Rooms are fed in sorted order, so the row
 *      locks are taken in one global order and two instances never deadlock;
 *   4. one multi-row INSERT of the messages (ON CONFLICT on the idempotency key DO NOTHING), with their
 *      `message.created` outbox rows in the same statement; COMMIT; only then does any append resolve.
 *
 * Seq stays gapless because counter bumps and inserts commit or roll back together, and a room's row lock is held
 * from its bump to COMMIT. If an insert conflicts (another instance stored the same clientMsgId between steps 2
 * and 4), the batch rolls back and is replayed: step 2 then sees the winner. When the database rejects a batch for
 * its data, the batch is split in halves and each retried, down to single rows, so one bad row fails alone.
 * Input is validated before it is queued, so most bad rows never reach a transaction.
 */
export class PostgresAppendBatcher {
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly pool: Pool,
    private readonly opts: AppendBatcherOptions,
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 256);
  }

  /** Queues one append; rejects at once when the message is malformed. */
  append(msg: NewMessage): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      prepare(msg);
      this.queue.push({ msg, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Starts the next batch on the next macrotask when none is running, so that appends made in the same
   * event-loop turn share it; while a batch runs, arrivals simply wait for it to end.
   */
  private schedule(): void {
    if (this.running || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.next();
    });
  }

  private async next(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      await this.settle(batch);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** Commits `batch` and settles every promise in it; never throws. */
  private async settle(batch: Pending[]): Promise<void> {
    let results: AppendResult[];
    try {
      results = await this.commitWithRetries(batch.map((p) => p.msg));
    } catch (e) {
      if (batch.length > 1 && e instanceof DatabaseError) {
        // The database refused something in this batch: find the row(s) by halving; the rest commit.
        const half = Math.ceil(batch.length / 2);
        await this.settle(batch.slice(0, half));
        await this.settle(batch.slice(half));
      } else {
        for (const p of batch) p.reject(e);
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]));
  }

  private async commitWithRetries(msgs: NewMessage[]): Promise<AppendResult[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const results = await this.commit(msgs);
        if (results) return results;
        if (attempt >= MAX_RETRIES)
          throw new Error('PostgresMessageStore: clientMsgId conflicts kept recurring');
      } catch (e) {
        // 40001 serialization failure, 40P01 deadlock: transient, replay the batch as it is.
        const transient = e instanceof DatabaseError && e.code?.startsWith('40');
        if (!transient || attempt >= MAX_RETRIES) throw e;
      }
    }
  }

  /** One transaction for the whole batch; undefined when it lost a clientMsgId race and rolled back. */
  private async commit(msgs: NewMessage[]): Promise<AppendResult[] | undefined> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await this.commitOn(c, msgs);
    } catch (e) {
      await c.query('ROLLBACK').catch((re: Error) => (broken = re));
      // Anything but a server-reported SQL error may leave the connection in an unknown state.
      if (!broken && !(e instanceof DatabaseError)) broken = e as Error;
      throw e;
    } finally {
      c.release(broken);
    }
  }

  private async commitOn(c: PoolClient, msgs: NewMessage[]): Promise<AppendResult[] | undefined> {
    const results: (AppendResult | undefined)[] = msgs.map(() => undefined);
    // 1. Repeats inside the batch point at the first message with their key.
    const leaderOf = new Map<string, number>();
    const followers: [number, number][] = [];
    msgs.forEach((m, i) => {
      if (m.clientMsgId === undefined) return;
      const k = keyOf(m.room, m.userId, m.clientMsgId);
      const leader = leaderOf.get(k);
      if (leader === undefined) leaderOf.set(k, i);
      else followers.push([i, leader]);
    });
    // 2. Keys stored before this batch.
    if (leaderOf.size > 0) {
      const keyed = [...leaderOf.values()].map((i) => msgs[i]);
      const { rows } = await c.query<MessageRow>(
        `SELECT ${prefixed('m')} FROM messages m
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(room, user_id, cid)
           ON m.room = k.room AND m.user_id = k.user_id AND m.client_msg_id = k.cid`,
        [keyed.map((m) => m.room), keyed.map((m) => m.userId), keyed.map((m) => m.clientMsgId)],
      );
      for (const row of rows) {
        const i = leaderOf.get(keyOf(row.room, row.user_id, row.client_msg_id!))!;
        results[i] = { message: rowToMessage(row), duplicate: true };
      }
    }
    const fresh: number[] = [];
    const followerSet = new Set(followers.map(([i]) => i));
    msgs.forEach((_, i) => {
      if (!results[i] && !followerSet.has(i)) fresh.push(i);
    });

    if (fresh.length > 0) {
      await c.query('BEGIN');
      // 3. One counter bump per room, in sorted room order (lock order).
      const counts = new Map<string, number>();
      for (const i of fresh) counts.set(msgs[i].room, (counts.get(msgs[i].room) ?? 0) + 1);
      const rooms = [...counts.keys()].sort();
      const bump = await c.query<{ room: string; last_seq: string }>(
        `INSERT INTO rooms (room, last_seq) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (room) DO UPDATE SET last_seq = rooms.last_seq + excluded.last_seq
         RETURNING room, last_seq`,
        [rooms, rooms.map((r) => counts.get(r)!)],
      );
      const nextSeq = new Map<string, number>();
      for (const r of bump.rows) {
        nextSeq.set(r.room, Number(r.last_seq) - counts.get(r.room)! + 1);
      }
      // 4. Every message (and its outbox event) in one statement.
      const ts = Date.now();
      const stored: StoredMessage[] = fresh.map((i) => {
        const m = msgs[i];
        const seq = nextSeq.get(m.room)!;
        nextSeq.set(m.room, seq + 1);
        const message: StoredMessage = {
          id: randomUUID(),
          room: m.room,
          seq,
          userId: m.userId,
          text: m.text,
          ts,
        };
        if (m.name !== undefined) message.name = m.name;
        if (m.clientMsgId !== undefined) message.clientMsgId = m.clientMsgId;
        return message;
      });
      const inserted = await c.query<{ n: number }>(this.insertSql(), this.insertParams(stored));
      if (inserted.rows[0].n !== stored.length) {
        // Another instance committed one of these keys after step 2: undo (no seq gap) and replay.
        await c.query('ROLLBACK');
        return undefined;
      }
      await c.query('COMMIT');
      fresh.forEach((i, k) => (results[i] = { message: stored[k], duplicate: false }));
      if (this.opts.outbox) this.opts.onOutboxCommitted();
    }
    for (const [i, leader] of followers) {
      results[i] = { message: results[leader]!.message, duplicate: true };
    }
    return results as AppendResult[];
  }

  private insertSql(): string {
    const messages = `INSERT INTO messages (${MESSAGE_COLUMNS})
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                           $7::bigint[], $8::text[])
      ON CONFLICT ON CONSTRAINT messages_idempotency_key DO NOTHING RETURNING 1`;
    const outbox = `INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at)
      SELECT id, 'message.created', payload, ts, ts FROM unnest($9::uuid[], $10::text[], $11::bigint[])
        AS e(id, payload, ts)`;
    return this.opts.outbox
      ? `WITH ins AS (${messages}), events AS (${outbox}) SELECT count(*)::int AS n FROM ins`
      : `WITH ins AS (${messages}) SELECT count(*)::int AS n FROM ins`;
  }

  private insertParams(stored: StoredMessage[]): unknown[] {
    const params: unknown[] = [
      stored.map((m) => m.id),
      stored.map((m) => m.room),
      stored.map((m) => m.seq),
      stored.map((m) => m.userId),
      stored.map((m) => m.name ?? null),
      stored.map((m) => m.text),
      stored.map((m) => m.ts),
      stored.map((m) => m.clientMsgId ?? null),
    ];
    if (this.opts.outbox) {
      const events = stored.map((m) =>
        outboxValues({ id: randomUUID(), type: 'message.created', ts: m.ts, data: m }),
      );
      params.push(
        events.map((e) => e[0]),
        events.map((e) => e[2]),
        events.map((e) => e[3]),
      );
    }
    return params;
  }
}

/** Checks a message before it is queued: a throw rejects this append only. */
function prepare(m: NewMessage): void {
  assertNewMessage(m);
  for (const k of ['room', 'userId', 'name', 'text', 'clientMsgId'] as const) {
    // PostgreSQL text cannot hold U+0000: refuse it here rather than fail a whole transaction.
    if (m[k]?.includes('\u0000')) throw new TypeError(`append: ${k} must not contain NUL`);
  }
}

function keyOf(room: string, userId: string, clientMsgId: string): string {
  return JSON.stringify([room, userId, clientMsgId]);
}

function prefixed(alias: string): string {
  return MESSAGE_COLUMNS.split(', ')
    .map((col) => `${alias}.${col}`)
    .join(', ');
}
