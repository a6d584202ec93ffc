import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SubscriptionIndex } from '../core/subscription-index';
import { ERROR_CODES, type ErrorCode } from '../protocol/errors';
import { OutboundWriter } from '../ws/outbound-writer';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** How a WebSocket handshake ended, by the HTTP status it got (101: upgraded). A closed list: bounded labels. */
const HANDSHAKE_RESULTS = {
  101: 'accepted',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_connections',
  500: 'error',
  503: 'draining',
} as const;
const OTHER_HANDSHAKE = 'refused';
export type HandshakeResult =
  (typeof HANDSHAKE_RESULTS)[keyof typeof HANDSHAKE_RESULTS] | typeof OTHER_HANDSHAKE;

/** One webhook delivery attempt: a 2xx, another status, or no answer (network error, timeout). */
export const WEBHOOK_OUTCOMES = ['delivered', 'rejected', 'failed'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/**
 * Process metrics (CPU, memory, heap, event-loop lag, GC) describe the process, not one app: they are collected
 * once per process into a registry of their own (never prom-client's global one), so that several servers booted
 * in one process (the tests) neither clash nor each start another event-loop sampler and GC observer.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Prometheus metrics through prom-client, in a Registry of this app instance. Hot-path counts (messages, frames,
 * errors) stay plain numbers that `collect()` reads at scrape time; histograms are observed where the work
 * happens. No label ever holds a room, channel or user: `event` is a routed event name, the others closed lists.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  messagesReceived = 0;
  /** Every code from the start, at 0: a scraper sees the whole series family before the first error. */
  readonly errors = new Map<ErrorCode, number>(ERROR_CODES.map((code) => [code, 0]));
  /** Supplies the connection gauge at scrape time. */
  connections: () => number = () => 0;

  private readonly requestDuration: Histogram<'event'>;
  private readonly chatAppendDuration: Histogram;
  private readonly fanoutRecipients: Histogram;
  private readonly handshakes: Counter<'result'>;
  private readonly slowConsumerCloses: Counter;
  private readonly rateLimitCloses: Counter;
  private readonly webhookAttempts: Counter<'outcome'>;

  constructor(writer: OutboundWriter, index: SubscriptionIndex) {
    processMetrics();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with its own `this`
    const self = this;
    const registers = [this.registry];
    new Gauge({
      name: 'hubbub_connections',
      help: 'Open WebSocket connections on this instance.',
      registers,
      collect() {
        this.set(self.connections());
      },
    });
    new Counter({
      name: 'hubbub_messages_received_total',
      help: 'Client messages received.',
      registers,
      collect() {
        setCounter(this, self.messagesReceived);
      },
    });
    new Counter({
      name: 'hubbub_messages_sent_total',
      help: 'Frames written to clients (replies, pushes and errors).',
      registers,
      collect() {
        setCounter(this, writer.framesSent);
      },
    });
    new Counter({
      name: 'hubbub_errors_total',
      help: 'Error frames sent to clients, by code.',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const [code, n] of self.errors) this.inc({ code }, n);
      },
    });
    new Gauge({
      name: 'hubbub_rooms',
      help: 'Rooms with at least one connection joined on this instance.',
      registers,
      collect() {
        this.set(index.count('room:'));
      },
    });
    new Gauge({
      name: 'hubbub_channels',
      help: 'Channels with at least one subscribed connection on this instance.',
      registers,
      collect() {
        this.set(index.count('chan:'));
      },
    });
    this.requestDuration = new Histogram({
      name: 'hubbub_request_duration_seconds',
      help: 'Time from a routed client request to its reply or error, by event.',
      labelNames: ['event'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.chatAppendDuration = new Histogram({
      name: 'hubbub_chat_append_duration_seconds',
      help: 'Time to store one chat message durably (the store commit a chat.send waits for).',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    this.fanoutRecipients = new Histogram({
      name: 'hubbub_fanout_recipients',
      help: 'Local connections one push was written to on this instance.',
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      registers,
    });
    this.handshakes = new Counter({
      name: 'hubbub_handshakes_total',
      help: 'WebSocket handshakes, by result (accepted, or why it was refused).',
      labelNames: ['result'],
      registers,
    });
    for (const result of [...Object.values(HANDSHAKE_RESULTS), OTHER_HANDSHAKE])
      this.handshakes.inc({ result }, 0);
    this.slowConsumerCloses = new Counter({
      name: 'hubbub_slow_consumer_closes_total',
      help: 'Connections closed with 1013 because their outbound queue passed MAX_BUFFERED_BYTES.',
      registers,
    });
    this.rateLimitCloses = new Counter({
      name: 'hubbub_rate_limit_closes_total',
      help: 'Connections closed with 4429 for flooding after rate_limited errors.',
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'hubbub_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome: delivered (2xx), rejected (other status), failed (no answer).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of WEBHOOK_OUTCOMES) this.webhookAttempts.inc({ outcome }, 0);
  }

  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** A routed request (the event has a handler, so the label set is bounded) finished; `started` from performance.now(). */
  requestDone(event: string, started: number): void {
    this.requestDuration.observe({ event }, (performance.now() - started) / 1000);
  }

  /** A chat message was stored; `started` from performance.now() before the append. */
  chatAppended(started: number): void {
    this.chatAppendDuration.observe((performance.now() - started) / 1000);
  }

  /** One push from the broker was written to `recipients` local connections. */
  fanout(recipients: number): void {
    this.fanoutRecipients.observe(recipients);
  }

  handshakeAccepted(): void {
    this.handshakes.inc({ result: HANDSHAKE_RESULTS[101] });
  }

  /** A handshake refused with this HTTP status. */
  handshakeRefused(status: number): void {
    const result =
      status in HANDSHAKE_RESULTS
        ? HANDSHAKE_RESULTS[status as keyof typeof HANDSHAKE_RESULTS]
        : OTHER_HANDSHAKE;
    this.handshakes.inc({ result });
  }

  slowConsumerClosed(): void {
    this.slowConsumerCloses.inc();
  }

  rateLimitClosed(): void {
    this.rateLimitCloses.inc();
  }

  webhookAttempt(outcome: WebhookOutcome): void {
    this.webhookAttempts.inc({ outcome });
  }

  /** The Prometheus text: this process's default metrics, then this app's series. */
  async render(): Promise<string> {
    const [own, app] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return own + app;
  }
}

/** A counter whose value lives elsewhere as a plain number: set it to that number at scrape time. */
function setCounter(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}
