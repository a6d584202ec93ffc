import { randomUUID } from 'node:crypto';
import { DatabaseError, type Pool } from 'pg';
import type { AppendResult, NewMessage } from './message-store';
import { assertNewMessage, type MessageRow, rowToMessage } from './sql-common';

export interface AppendBatcherOptions {
  /** Most appends one transaction carries (default 256). */
  maxBatch?: number;
  /** Batch transactions one store runs at once (default 2): the next one is prepared while one commits. */
  maxInFlight?: number;
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

/** Replays of a whole batch after a deadlock or serialization failure (should not happen), before splitting. */
const MAX_RETRIES = 3;

/**
 * Group commit for PostgreSQL appends. Up to `maxInFlight` batches run at once per store; the appends that arrive
 * meanwhile (any room, any user) wait in the queue and go together into the next batch, at most `maxBatch` of them.
 *
 * A batch is one call of the `hubbub_append_batch2` function (migrations 3 and 6, see postgres-append-sql.ts): one round
 * trip, one implicit transaction, one counter bump per room, one multi-row insert with the outbox rows; every append
 * of the batch resolves after that COMMIT. Repeats of a clientMsgId inside the batch are folded here first (they get
 * the first one's message, as duplicates); keys stored before are found by the function under the rooms' locks.
 *
 * Bad rows: input is validated before it is queued (a throw rejects that append only). When the database still
 * refuses a batch for its data, the batch is split in halves and each half retried, down to single rows: the bad
 * row fails alone and its neighbours commit. A connection failure rejects the whole batch (nothing was committed).
 */
export class PostgresAppendBatcher {
  private queue: Pending[] = [];
  private running = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly pool: Pool,
    private readonly opts: AppendBatcherOptions,
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 256);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
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
   * Starts the next batch on the next macrotask when fewer than maxInFlight run, so that the appends made in the
   * same event-loop turn share it; otherwise arrivals wait in the queue for a running batch to end.
   */
  private schedule(): void {
    if (this.running >= this.maxInFlight || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.next();
    });
  }

  private async next(): Promise<void> {
    if (this.running >= this.maxInFlight || this.queue.length === 0) return;
    this.running++;
    const batch = this.queue.splice(0, this.maxBatch);
    this.schedule(); // more queued than one batch holds: the next may start at once
    try {
      await this.settle(batch);
    } finally {
      this.running--;
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
        return await this.commit(msgs);
      } catch (e) {
        // 40001 serialization failure, 40P01 deadlock: transient, replay the batch as it is.
        const transient = e instanceof DatabaseError && e.code?.startsWith('40');
        if (!transient || attempt >= MAX_RETRIES) throw e;
      }
    }
  }

  /** The whole batch in one statement, i.e. one implicit transaction; resolves after its COMMIT. */
  private async commit(msgs: NewMessage[]): Promise<AppendResult[]> {
    // Repeats of a (room, userId, clientMsgId) inside the batch follow the first message with that key.
    const leaderOf = new Map<string, number>();
    const sent: NewMessage[] = [];
    const slot = msgs.map((m) => {
      if (m.clientMsgId !== undefined) {
        const k = keyOf(m.room, m.userId, m.clientMsgId);
        const leader = leaderOf.get(k);
        if (leader !== undefined) return leader;
        leaderOf.set(k, sent.length);
      }
      sent.push(m);
      return sent.length - 1;
    });
    const { rows } = await this.pool.query<BatchRow>(
      'SELECT * FROM hubbub_append_batch2($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
      [
        sent.map((m) => m.room),
        sent.map((m) => m.userId),
        sent.map((m) => m.name ?? null),
        sent.map((m) => m.text),
        sent.map((m) => m.clientMsgId ?? null),
        sent.map(() => randomUUID()),
        sent.map(() => randomUUID()),
        sent.map((m) => m.replyTo ?? null),
        sent.map((m) => (m.mentions?.length ? JSON.stringify([...new Set(m.mentions)]) : null)),
        Date.now(),
        this.opts.outbox,
      ],
    );
    if (rows.length !== sent.length)
      throw new Error(`PostgresMessageStore: batch of ${sent.length} answered ${rows.length} rows`);
    const bySlot: AppendResult[] = [];
    let created = false;
    for (const row of rows) {
      bySlot[row.ord - 1] = { message: rowToMessage(row), duplicate: row.duplicate };
      created ||= !row.duplicate;
    }
    if (created && this.opts.outbox) this.opts.onOutboxCommitted();
    const seen = new Set<number>();
    return slot.map((i) => {
      const r = bySlot[i];
      // The first message of a slot gets the database's answer; later ones in this batch are its repeats.
      if (seen.has(i)) return { message: r.message, duplicate: true };
      seen.add(i);
      return r;
    });
  }
}

interface BatchRow extends MessageRow {
  ord: number;
  duplicate: boolean;
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
