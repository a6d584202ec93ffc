import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { Webhook } from 'standardwebhooks';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import {
  type ClaimedWebhook,
  type LifecycleEvent,
  type LifecycleEventType,
  type WebhookEventData,
  WebhookOutbox,
} from '../store/webhook-outbox';
import { Tracing } from '../tracing/tracing.service';
import { OutboxWriter } from './outbox-writer';
import { queuedEvent } from './webhook-lanes';

/** One webhook delivery attempt: a 2xx, another status, or no answer (network error, timeout). */
export const WEBHOOK_OUTCOMES = ['delivered', 'rejected', 'failed'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export const DELIVERY_TIMEOUT_MS = 5_000;
/** Three times the request timeout, so a lease only runs out when its dispatcher died (or hung). */
const LEASE_MS = 15_000;
/** Poll period while events keep coming; when idle it doubles up to MAX_IDLE_MS. */
const POLL_MS = 200;
const MAX_IDLE_MS = 1_000;
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/**
 * Standard Webhooks headers for one request: `webhook-signature` is `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` keyed with the decoded `whsec_` secret. The timestamp is the time of this attempt
 * (seconds), so a retry hours later still passes the receiver's 5-minute tolerance; the id stays the event's.
 */
export function standardWebhookHeaders(
  signer: Webhook,
  id: string,
  body: string,
  at = new Date(),
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signer.sign(id, at, body),
  };
}

/** Wait before the next attempt after `attempts` failed ones: 1 s, 2 s, 4 s … capped at 5 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
}

/**
 * Webhooks (WEBHOOK_URL). `emit()` records lifecycle events in the durable outbox of the message store (through
 * the OutboxWriter: in order, kept and retried while the store is unreachable); the dispatcher keeps up to
 * WEBHOOK_CONCURRENCY requests in flight, claiming due events as requests finish, and POSTs each one, signed as
 * Standard Webhooks, to the receiver. 2xx completes an event; anything else (error, timeout, other status)
 * schedules another attempt with exponential backoff, forever: at least once.
 * The outbox hands out one event per lane at a time (see webhook-lanes.ts), so one room's or user's burst never
 * holds back another's by more than one round, and a lane's events arrive in order.
 * Claims are leased in the shared store, so in cluster mode each event is sent by one instance only.
 * Without WEBHOOK_URL everything here is a no-op.
 */
@Injectable()
export class WebhookService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookService.name);
  readonly enabled: boolean;
  /**
   * Delivery attempts by outcome: delivered (2xx), rejected (another status), failed (no answer). Plain numbers,
   * read by metrics at scrape time.
   */
  readonly attempts: Record<WebhookOutcome, number> = { delivered: 0, rejected: 0, failed: 0 };
  private readonly signer?: Webhook;
  private readonly writer: OutboxWriter;
  private readonly concurrency: number;
  private timer?: NodeJS.Timeout;
  /** The claim under way, if any (one at a time). */
  private claiming?: Promise<void>;
  /** Deliveries in flight. */
  private readonly inFlight = new Set<Promise<void>>();
  private woken = false;
  private stopped = false;
  private idleMs = POLL_MS;
  /** Cuts in-flight requests short on shutdown. */
  private readonly abort = new AbortController();
  /** `webhook deliver` spans; a property so that specs can build the service without Nest. */
  @Optional() @Inject(Tracing) private readonly tracing?: Tracing;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly outbox: WebhookOutbox,
  ) {
    this.enabled = config.webhookUrl !== undefined;
    this.concurrency = config.webhookConcurrency ?? 8;
    this.writer = new OutboxWriter(outbox, config.webhookOutboxMaxEvents ?? 10_000);
    // loadConfig refuses a URL without a well-formed `whsec_` secret.
    if (this.enabled) this.signer = new Webhook(config.webhookSecret!);
    if (this.enabled) outbox.onEnqueue(() => this.pump()); // emit() and message.created alike
  }

  /** Lifecycle events shed by type, events dropped by coalescing, events waiting in memory: for metrics. */
  get shed(): Readonly<Partial<Record<LifecycleEventType, number>>> {
    return this.writer.shed;
  }
  get coalesced(): number {
    return this.writer.coalesced;
  }
  get unwritten(): number {
    return this.writer.pending;
  }

  emit<K extends LifecycleEventType>(
    type: K,
    data: WebhookEventData[K],
    at = Date.now(),
  ): Promise<void> {
    return this.emitAll([{ type, data } as LifecycleEvent], at);
  }

  /**
   * Records the events (in this order); `at`: when they happened (ms), their `ts`, unless an event has its own;
   * `by`: the user whose action caused them (the owner they are charged to, see webhook-lanes.ts).
   * Resolves once the write was tried; never rejects: an outbox that cannot take them now gets them later.
   */
  async emitAll(events: LifecycleEvent[], at = Date.now(), by?: string): Promise<void> {
    if (!this.enabled || events.length === 0) return;
    await this.writer.write(
      events.map((e) => queuedEvent(e, e.id ?? randomUUID(), e.ts ?? at, by)),
    );
  }

  onApplicationBootstrap(): void {
    if (this.enabled) this.pump(); // also sends what a previous run left in the outbox
  }

  /** Runs before the stores close: stops polling and hands in-flight events back to the outbox. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.claiming;
    await Promise.all([...this.inFlight]);
    await this.writer.stop();
  }

  /**
   * Fills the free delivery slots: claims up to that many due events (one claim at a time; work that arrives
   * meanwhile claims again after it) and starts their deliveries; each one that ends pumps again. With nothing
   * claimed, polls after an idle period that doubles up to MAX_IDLE_MS (other instances' events, retries due).
   */
  private pump(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.woken = true;
      return;
    }
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return; // a delivery that ends pumps again
    clearTimeout(this.timer);
    this.woken = false;
    this.claiming = this.claim(free).then((claimed) => {
      this.claiming = undefined;
      for (const event of claimed) this.start(event);
      this.idleMs = claimed.length > 0 ? POLL_MS : Math.min(this.idleMs * 2, MAX_IDLE_MS);
      if (this.woken || claimed.length === free) this.pump();
      else this.schedule(this.idleMs);
    });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), ms);
    this.timer.unref();
  }

  private async claim(limit: number): Promise<ClaimedWebhook[]> {
    try {
      return await this.outbox.claimWebhooks(limit, LEASE_MS);
    } catch (err) {
      this.logger.warn(`webhook outbox unavailable: ${String(err)}`);
      return [];
    }
  }

  private start(event: ClaimedWebhook): void {
    const delivery = (
      this.tracing
        ? this.tracing.span(
            'webhook deliver',
            { 'hubbub.webhook.type': event.type, 'hubbub.webhook.attempt': event.attempts },
            () => this.deliver(event),
            SpanKind.CLIENT,
          )
        : this.deliver(event)
    )
      .catch((err: unknown) => this.logger.error(`webhook dispatcher: ${String(err)}`))
      .finally(() => {
        this.inFlight.delete(delivery);
        this.pump();
      });
    this.inFlight.add(delivery);
  }

  private async deliver(event: ClaimedWebhook): Promise<void> {
    const body = JSON.stringify({ id: event.id, type: event.type, ts: event.ts, data: event.data });
    let failure: string;
    try {
      const res = await fetch(this.config.webhookUrl!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'hubbub-webhooks',
          ...standardWebhookHeaders(this.signer!, event.id, body),
        },
        body,
        redirect: 'manual', // a redirect is not a delivery
        signal: AbortSignal.any([AbortSignal.timeout(DELIVERY_TIMEOUT_MS), this.abort.signal]),
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) {
        this.attempts.delivered++;
        await this.settle(event, () => this.outbox.completeWebhook(event.id));
        return;
      }
      failure = `HTTP ${res.status}`;
      this.attempts.rejected++;
    } catch (err) {
      if (!this.stopped) this.attempts.failed++; // not the receiver's fault when we cut it short
      failure =
        err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
    }
    if (this.stopped) {
      // Shutting down: hand it back, due at once, for the next start (or another instance).
      await this.settle(event, () => this.outbox.retryWebhook(event.id, Date.now()));
      return;
    }
    const delay = retryDelayMs(event.attempts);
    this.logger.warn(
      `webhook ${event.type} ${event.id} attempt ${event.attempts} failed (${failure}); next in ${delay} ms`,
    );
    await this.settle(event, () => this.outbox.retryWebhook(event.id, Date.now() + delay));
  }

  /** An outbox write that fails leaves the lease to expire: the event is sent again later, never lost. */
  private async settle(event: ClaimedWebhook, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.logger.warn(
        `webhook ${event.id}: outbox update failed, retried after its lease: ${String(err)}`,
      );
    }
  }
}
