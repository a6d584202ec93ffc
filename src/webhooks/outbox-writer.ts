import { Logger } from '@nestjs/common';
import { CLOSING_EVENTS } from './webhook-lanes';
import {
  type LifecycleEventType,
  type OutboxEvent,
  outboxValues,
  type WebhookOutbox,
} from '../store/webhook-outbox';

/** Lifecycle events waiting in memory for the outbox (a store outage); past it they are shed. */
export const MAX_UNWRITTEN = 10_000;
/** Events written in one transaction. */
const WRITE_BATCH = 500;
const MAX_WRITE_RETRY_MS = 30_000;
/** The outbox size is counted again at most this often (between counts it is estimated). */
const COUNT_EVERY_MS = 1_000;
/** Shed partners remembered (see `shedding`); past it events are written rather than shed. */
const MAX_SHED_LANES = 10_000;
const SHED_LOG_EVERY_MS = 10_000;

/** Events a full outbox still takes: the word that a person's data is gone must reach the receiver. */
const NEVER_SHED = new Set<string>(['user.erased']);

/**
 * Writes lifecycle events to the outbox in the order they were emitted, one transaction at a time (what is
 * emitted meanwhile goes in the next one). A write that fails (the store is unreachable) keeps its events in
 * memory and tries again with backoff until it succeeds; their ids and `ts` stay what they were, so a write that
 * did commit before its error collapses with its repeat.
 *
 * Bounds: past `maxEvents` in the outbox, or MAX_UNWRITTEN in memory, new lifecycle events are shed, counted by
 * type and logged; an opening event's lane then sheds its closing partner too, so the pair drops out together
 * and what is sent still alternates (joined/left, occupied/vacated). A closing event whose opening was written is
 * never shed (it is bounded by those openings), nor is `message.created` (the store writes it with its message,
 * not through here).
 */
export class OutboxWriter {
  private readonly logger = new Logger('WebhookService');
  /** Shed events by type: a plain record read by metrics at scrape time. */
  readonly shed: Partial<Record<LifecycleEventType, number>> = {};
  /** Events that coalescing dropped in pairs. */
  coalesced = 0;
  private unwritten: OutboxEvent[] = [];
  private waiters: (() => void)[] = [];
  private writing?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  /** Lanes whose last event was shed: their next one is shed too. */
  private readonly shedLanes = new Set<string>();
  private size = 0;
  private countedAt = 0;
  private counting = false;
  private lastShedLog = 0;
  private shedSinceLog = 0;

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly maxEvents: number,
  ) {}

  /** Events held in memory until the outbox takes them. */
  get pending(): number {
    return this.unwritten.length;
  }

  /**
   * Queues the events and resolves once a write including them was tried: written, or kept for a retry (never
   * rejects). An event whose data is not JSON is refused here, with a log line, not written.
   */
  write(events: OutboxEvent[]): Promise<void> {
    this.recount();
    for (const e of events) {
      try {
        outboxValues(e);
      } catch (err) {
        this.logger.warn(`webhook ${e.type} not recorded: ${String(err)}`);
        continue;
      }
      if (this.shedding(e)) this.count(e);
      else this.unwritten.push(e);
    }
    // Nothing to write (all shed), or an outage: kept, written when the store is back.
    if (this.unwritten.length === 0 || this.retryTimer) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    void this.flush();
    return done;
  }

  /**
   * Stops retrying after the write under way (and one last try when the store is reachable); what is still
   * unwritten then is lost with the process.
   */
  async stop(): Promise<void> {
    await this.writing;
    if (this.unwritten.length > 0 && this.failures === 0) await this.flush();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private flush(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
      // Queued after the loop looked for the last time (its waiters woke first): write them now.
      if (this.unwritten.length > 0 && !this.retryTimer) void this.flush();
    });
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.unwritten.length > 0) {
      const batch = this.unwritten.slice(0, WRITE_BATCH);
      const waiters = this.unwritten.length <= WRITE_BATCH ? this.waiters.splice(0) : [];
      try {
        this.coalesced += await this.outbox.enqueue(batch);
        this.unwritten.splice(0, batch.length);
        this.size += batch.length;
        if (this.failures > 0) this.logger.log(`webhook outbox writable again`);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const delay = Math.min(100 * 2 ** (this.failures - 1), MAX_WRITE_RETRY_MS);
        if (this.failures === 1 || delay === MAX_WRITE_RETRY_MS) {
          this.logger.warn(
            `webhook outbox write failed (${String(err)}): ${this.unwritten.length} event(s) kept, retried in ${delay} ms`,
          );
        }
        for (const wake of this.waiters.splice(0).concat(waiters)) wake();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.flush();
        }, delay);
        this.retryTimer.unref();
        return;
      }
      for (const wake of waiters) wake();
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Shed `e`? Also true for the partner of an event shed before (see the class comment). */
  private shedding(e: OutboxEvent): boolean {
    if (e.lane !== undefined && this.shedLanes.delete(e.lane)) return true;
    if (CLOSING_EVENTS.has(e.type) || NEVER_SHED.has(e.type)) return false;
    const full = this.size >= this.maxEvents || this.unwritten.length >= MAX_UNWRITTEN;
    if (!full || this.shedLanes.size >= MAX_SHED_LANES) return false;
    if (e.lane !== undefined) this.shedLanes.add(e.lane);
    return true;
  }

  private count(e: OutboxEvent): void {
    const type = e.type as LifecycleEventType;
    this.shed[type] = (this.shed[type] ?? 0) + 1;
    this.shedSinceLog++;
    const now = Date.now();
    if (now - this.lastShedLog < SHED_LOG_EVERY_MS) return;
    this.logger.warn(
      `webhook outbox full (${this.size} of WEBHOOK_OUTBOX_MAX_EVENTS=${this.maxEvents} stored, ${this.unwritten.length} unwritten): ${this.shedSinceLog} lifecycle event(s) shed`,
    );
    this.lastShedLog = now;
    this.shedSinceLog = 0;
  }

  /** Refreshes the outbox size in the background, at most once per COUNT_EVERY_MS. */
  private recount(): void {
    const now = Date.now();
    if (this.counting || now - this.countedAt < COUNT_EVERY_MS) return;
    this.counting = true;
    this.countedAt = now;
    this.outbox
      .countWebhooks()
      .then((n) => (this.size = n))
      .catch(() => {}) // unreachable: the write will say so
      .finally(() => (this.counting = false));
  }
}
