import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { settle } from '../common/settle';
import { migrate, transaction } from './sqlite-migrations';
import {
  type AppendResult,
  type HistoryQuery,
  MessageStore,
  type NewMessage,
  type StoredMessage,
} from './message-store';
import {
  assertNewMessage,
  buildHistoryQuery,
  MESSAGE_COLUMNS,
  type MessageRow,
  rowToMessage,
} from './sql-common';
import {
  type ClaimedWebhook,
  compareClaimed,
  type OutboxOptions,
  type OutboxRow,
  outboxValues,
  type OutboxEvent,
  rowToClaimed,
  type WebhookOutbox,
} from './webhook-outbox';
import { coalesces, SQLITE_OUTBOX_SQL } from './outbox-sql';
import { SQLITE_INSERT_MENTION, SQLITE_INSERT_MESSAGE } from './chat-lifecycle-sql';
import { SqliteDerivedRows } from './sqlite-derived-rows';

/** A write waiting for the next group commit. */
interface Pending {
  work: () => unknown;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}

/** The oldest seq stored, else the room's last + 1 (1 for a room never written). */
const FIRST_SEQ_SQL = `SELECT COALESCE((SELECT min(seq) FROM messages WHERE room = ?),
  (SELECT last_seq FROM rooms WHERE room = ?) + 1, 1) AS first`;

/**
 * Single-node store on a SQLite file (node:sqlite, synchronous API).
 *
 * Durability: WAL + synchronous=FULL fsyncs the WAL on every COMMIT, so an acknowledged append survives a process
 * crash and a power loss. Group commit: an fsync costs ~ms and DatabaseSync blocks the event loop for it, so
 * everything queued during one event-loop turn is written by a setImmediate callback in ONE transaction (one
 * fsync); each promise settles only after that COMMIT returns. Outbox writes share the same batches; the full-text
 * and author rows of new messages are written in bulk (SqliteDerivedRows).
 *
 * Webhooks: with `outbox: true` every new message also writes its `message.created` event to
 * webhook_outbox inside its batch transaction, so a committed message always has its event.
 */
export class SqliteMessageStore extends MessageStore implements WebhookOutbox {
  private db?: DatabaseSync;
  private stmt!: Record<string, StatementSync>;
  /** history() has four SQL shapes; prepare each once. */
  private readonly historyStmts = new Map<string, StatementSync>();
  private queue: Pending[] = [];
  /** New messages' full-text and author rows, written in bulk (SqliteDerivedRows). */
  private derived!: SqliteDerivedRows;
  private readonly enqueueListeners: (() => void)[] = [];
  /** The open batch wrote outbox events: tell the listeners after its COMMIT. */
  private batchEnqueued = false;
  private flushScheduled?: NodeJS.Immediate;
  private closed = false;

  constructor(private readonly opts: { path: string } & OutboxOptions) {
    super();
  }

  // node:sqlite is synchronous; `settle` turns the sync work (and its throws) into the contract's Promise.

  override init(): Promise<void> {
    return settle(() => this.initSync());
  }

  private initSync(): void {
    if (this.closed) throw new Error('SqliteMessageStore: closed');
    if (this.db) return;
    if (this.opts.path !== ':memory:') mkdirSync(dirname(this.opts.path), { recursive: true });
    const db = new DatabaseSync(this.opts.path);
    try {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA busy_timeout = 5000'); // another process may hold the write lock briefly
      db.exec('PRAGMA secure_delete = ON'); // freed content is zeroed: a deleted message's text leaves the file
      migrate(db);
      transaction(db, () => SqliteDerivedRows.catchUp(db));
      this.derived = new SqliteDerivedRows(db);
      this.stmt = {
        findByClient: db.prepare(
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND user_id = ? AND client_msg_id = ?`,
        ),
        // Counter row bumped inside the batch transaction => seq is gapless and unique.
        bumpSeq: db.prepare(
          `INSERT INTO rooms (room, last_seq) VALUES (?, 1)
           ON CONFLICT (room) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
        ),
        insert: db.prepare(SQLITE_INSERT_MESSAGE),
        mention: db.prepare(SQLITE_INSERT_MENTION),
        lastSeq: db.prepare('SELECT last_seq FROM rooms WHERE room = ?'),
        firstSeq: db.prepare(FIRST_SEQ_SQL),
        ping: db.prepare('SELECT 1'),
        // OR IGNORE: an id already in the outbox is a repeat of that event (see WebhookEvent.id).
        outboxInsert: db.prepare(SQLITE_OUTBOX_SQL.insert),
        outboxClaim: db.prepare(SQLITE_OUTBOX_SQL.claim),
        outboxExists: db.prepare(SQLITE_OUTBOX_SQL.exists),
        outboxLatest: db.prepare(SQLITE_OUTBOX_SQL.latest),
        outboxCount: db.prepare(SQLITE_OUTBOX_SQL.count),
        outboxDelete: db.prepare('DELETE FROM webhook_outbox WHERE id = ?'),
        outboxRetry: db.prepare(
          'UPDATE webhook_outbox SET next_attempt_at = ?, lease_until = NULL WHERE id = ?',
        ),
      };
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
  }

  override append(msg: NewMessage): Promise<AppendResult> {
    return this.queued(
      () => this.write(msg),
      () => assertNewMessage(msg), // a throw here rejects only this append
    );
  }

  enqueue(events: OutboxEvent[]): Promise<number> {
    return this.queued(
      () => {
        let dropped = 0;
        for (const e of events) {
          const [id, type, payload, ts] = outboxValues(e);
          if (coalesces(this.stmt, e)) dropped += 2;
          else this.insertEvent(e, [id, type, payload, ts]);
        }
        this.batchEnqueued = true;
        return dropped;
      },
      () => events.forEach(outboxValues), // unserialisable data rejects this call, not the batch
    );
  }

  private insertEvent(e: OutboxEvent, [id, type, payload, ts]: [string, string, string, number]) {
    const due = ts + (e.holdMs ?? 0);
    this.stmt.outboxInsert.run(id, type, payload, ts, due, e.lane ?? null, e.owner ?? null);
  }

  countWebhooks(): Promise<number> {
    return settle(() => {
      this.open();
      return Number((this.stmt.outboxCount.get() as { n: number }).n);
    });
  }

  claimWebhooks(limit: number, leaseMs: number): Promise<ClaimedWebhook[]> {
    return this.queued(() => {
      const now = Date.now();
      const rows = this.stmt.outboxClaim.all({ now, lease: now + leaseMs, limit });
      return (rows as unknown as OutboxRow[]).map(rowToClaimed).sort(compareClaimed);
    });
  }

  completeWebhook(id: string): Promise<void> {
    return this.queued(() => void this.stmt.outboxDelete.run(id));
  }

  retryWebhook(id: string, nextAttemptAt: number): Promise<void> {
    return this.queued(() => void this.stmt.outboxRetry.run(nextAttemptAt, id));
  }

  onEnqueue(listener: () => void): void {
    this.enqueueListeners.push(listener);
  }

  /**
   * Runs `work` in the next group commit (one transaction with the writes queued beside it; it must not throw for
   * an expected outcome, which would fail them all) and, with the outbox on, writes the events it returns in it.
   */
  transact<T>(work: (db: DatabaseSync) => [T, OutboxEvent[]]): Promise<T> {
    return this.queued(() => {
      this.derived.write(); // a change or deletion finds its message's rows there
      const [result, events] = work(this.open());
      if (this.opts.outbox && events.length > 0) {
        for (const e of events) this.insertEvent(e, outboxValues(e));
        this.batchEnqueued = true;
      }
      return result;
    });
  }

  /** Resolves once every acknowledged message has its derived rows (a search or an export asks first). */
  indexed(): Promise<void> {
    return this.derived.size > 0 ? this.queued(() => this.derived.write()) : Promise.resolve();
  }

  /** The open database, for reads and statements of the features beside the store. */
  database = (): DatabaseSync => this.open();

  /** Queues `work` for the next group commit. `check` runs now; its throw rejects this call only. */
  private queued<T>(work: () => T, check?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.open();
      check?.();
      this.queue.push({ work, resolve: resolve as (r: unknown) => void, reject });
      this.flushScheduled ??= setImmediate(() => this.flush());
    });
  }

  override history(q: HistoryQuery): Promise<StoredMessage[]> {
    return settle(() => this.historySync(q));
  }

  private historySync(q: HistoryQuery): StoredMessage[] {
    const { sql, params, reverse } = buildHistoryQuery(q, () => '?');
    const db = this.open();
    let stmt = this.historyStmts.get(sql);
    if (!stmt) this.historyStmts.set(sql, (stmt = db.prepare(sql)));
    const rows = stmt.all(...(params as (string | number)[])) as unknown as MessageRow[];
    const out = rows.map(rowToMessage);
    return reverse ? out.reverse() : out;
  }

  override lastSeq(room: string): Promise<number> {
    return settle(() => {
      this.open();
      const row = this.stmt.lastSeq.get(room) as { last_seq: number } | undefined;
      return row ? Number(row.last_seq) : 0;
    });
  }

  override firstSeq(room: string): Promise<number> {
    return settle(() => {
      this.open();
      const row = this.stmt.firstSeq.get(room, room) as { first: number };
      return Number(row.first);
    });
  }

  override ping(): Promise<void> {
    return settle(() => {
      this.open();
      this.stmt.ping.get();
    });
  }

  override close(): Promise<void> {
    return settle(() => this.closeSync());
  }

  private closeSync(): void {
    if (this.closed) return;
    if (this.db) {
      // Pending appends are committed (and resolved) before closing, and the full-text rows still waiting.
      this.queue.push({ work: () => this.derived.write(), resolve: () => {}, reject: () => {} });
      clearImmediate(this.flushScheduled);
      this.flush();
      this.derived.stop();
    }
    this.closed = true;
    this.db?.close();
    this.db = undefined;
  }

  private open(): DatabaseSync {
    if (!this.db || this.closed) throw new Error('SqliteMessageStore: not open');
    return this.db;
  }

  /** Writes the whole queue in one transaction; all-or-nothing. */
  private flush(): void {
    this.flushScheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: unknown[];
    this.batchEnqueued = false;
    this.derived.begin();
    try {
      results = transaction(this.open(), () => {
        const out = batch.map((p) => p.work());
        if (this.derived.due) this.derived.write();
        return out;
      });
    } catch (err) {
      this.derived.rolledBack();
      for (const p of batch) p.reject(err);
      return;
    }
    // Rows left waiting are written by a later commit, or after INDEX_DELAY_MS (a failed write: by the next).
    this.derived.committed(() => void (this.closed || this.indexed().catch(() => undefined)));
    batch.forEach((p, i) => p.resolve(results[i]));
    if (this.batchEnqueued) for (const listener of this.enqueueListeners) listener();
  }

  /** One append inside the open batch transaction. */
  private write(msg: NewMessage): AppendResult {
    if (msg.clientMsgId !== undefined) {
      // Also sees rows written earlier in this (uncommitted) batch: in-batch duplicates are caught.
      const row = this.stmt.findByClient.get(msg.room, msg.userId, msg.clientMsgId);
      if (row) return { message: rowToMessage(row as unknown as MessageRow), duplicate: true };
    }
    const { last_seq } = this.stmt.bumpSeq.get(msg.room) as { last_seq: number };
    const message: StoredMessage = {
      id: randomUUID(),
      room: msg.room,
      seq: Number(last_seq),
      userId: msg.userId,
      text: msg.text,
      ts: Date.now(),
    };
    if (msg.name !== undefined) message.name = msg.name;
    if (msg.clientMsgId !== undefined) message.clientMsgId = msg.clientMsgId;
    if (msg.replyTo !== undefined) message.replyTo = msg.replyTo;
    const mentions = msg.mentions?.length ? [...new Set(msg.mentions)] : undefined;
    if (mentions) message.mentions = mentions;
    const { lastInsertRowid } = this.stmt.insert.run(
      message.id,
      message.room,
      message.seq,
      message.userId,
      msg.name ?? null,
      message.text,
      message.ts,
      msg.clientMsgId ?? null,
      msg.replyTo ?? null,
      mentions ? JSON.stringify(mentions) : null,
    );
    this.derived.add(lastInsertRowid, message.room, message.seq, message.userId, message.text);
    for (const user of mentions ?? []) this.stmt.mention.run(message.room, message.seq, user);
    if (this.opts.outbox) {
      const [id, type, payload, ts] = outboxValues({
        id: randomUUID(),
        type: 'message.created',
        ts: message.ts,
        data: message,
      });
      this.stmt.outboxInsert.run(id, type, payload, ts, ts, null, null);
      this.batchEnqueued = true;
    }
    return { message, duplicate: false };
  }
}
