import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { PrometheusObservations } from './prometheus-observations';
import { SubscriptionIndex } from '../fanout/subscription-index';
import { TOPIC_PREFIX } from '../protocol/topics';
import { ClientRegistry } from '../ws/client-registry.service';
import { FrameRouter } from '../ws/frame-router';
import { OutboundWriter } from '../ws/outbound-writer';
import { SlowConsumerPolicy } from '../ws/slow-consumer.policy';
import { UpgradeGate } from '../ws/upgrade-gate';
import { Overload } from '../ws/overload';
import { WEBHOOK_OUTCOMES, WebhookService } from '../webhooks/webhook.service';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

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
 * Prometheus metrics through prom-client, in a Registry of this app instance. Counts stay plain numbers on the
 * transport classes that count them (FrameRouter, OutboundWriter, UpgradeGate, SlowConsumerPolicy, WebhookService)
 * and are read by `collect()` at scrape time; histograms come in through the Observations seam
 * (PrometheusObservations), whose registry this one shares.
 * Nothing below imports metrics. No label ever holds a room, channel or user: `event` is a routed event name,
 * the others closed lists.
 */
@Injectable()
export class MetricsService {
  private readonly registry: Registry;

  constructor(
    observations: PrometheusObservations,
    registry: ClientRegistry,
    router: FrameRouter,
    writer: OutboundWriter,
    index: SubscriptionIndex,
    gate: UpgradeGate,
    slowConsumers: SlowConsumerPolicy,
    webhooks: WebhookService,
    overload: Overload,
  ) {
    processMetrics();
    this.registry = observations.registry;
    const registers = [observations.registry];
    new Gauge({
      name: 'hubbub_overloaded',
      help: '1 while the instance refuses new work for its heap (OVERLOAD_HEAP_RATIO), else 0.',
      registers,
      collect() {
        this.set(overload.active ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hubbub_connections',
      help: 'Open WebSocket connections on this instance.',
      registers,
      collect() {
        this.set(registry.size);
      },
    });
    new Counter({
      name: 'hubbub_messages_received_total',
      help: 'Client messages received.',
      registers,
      collect() {
        setCounter(this, router.received);
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
        for (const [code, n] of router.errors) this.inc({ code }, n);
      },
    });
    new Gauge({
      name: 'hubbub_rooms',
      help: 'Rooms with at least one connection joined on this instance.',
      registers,
      collect() {
        this.set(index.count(TOPIC_PREFIX.room));
      },
    });
    new Gauge({
      name: 'hubbub_channels',
      help: 'Channels with at least one subscribed connection on this instance.',
      registers,
      collect() {
        this.set(index.count(TOPIC_PREFIX.channel));
      },
    });
    new Counter({
      name: 'hubbub_handshakes_total',
      help: 'WebSocket handshakes, by result (accepted, or why it was refused).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        for (const [result, n] of gate.results) this.inc({ result }, n);
      },
    });
    new Counter({
      name: 'hubbub_slow_consumer_closes_total',
      help: 'Connections closed with 1013 because their outbound queue passed MAX_BUFFERED_BYTES.',
      registers,
      collect() {
        setCounter(this, slowConsumers.closed);
      },
    });
    new Counter({
      name: 'hubbub_rate_limit_closes_total',
      help: 'Connections closed with 4429 for flooding after rate_limited errors.',
      registers,
      collect() {
        setCounter(this, router.floodCloses);
      },
    });
    new Counter({
      name: 'hubbub_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome: delivered (2xx), rejected (other status), failed (no answer).',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        for (const outcome of WEBHOOK_OUTCOMES) this.inc({ outcome }, webhooks.attempts[outcome]);
      },
    });
    new Counter({
      name: 'hubbub_webhook_shed_total',
      help: 'Lifecycle webhook events dropped because the outbox was full (WEBHOOK_OUTBOX_MAX_EVENTS), by type; message.created is never shed.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const [type, n] of Object.entries(webhooks.shed)) this.inc({ type }, n);
      },
    });
    new Counter({
      name: 'hubbub_webhook_coalesced_total',
      help: 'Webhook events dropped in pairs by coalescing a join/leave flap (never sent, so what is sent still alternates).',
      registers,
      collect() {
        setCounter(this, webhooks.coalesced);
      },
    });
    new Gauge({
      name: 'hubbub_webhook_unwritten',
      help: 'Lifecycle webhook events kept in memory because the outbox write failed (retried with backoff).',
      registers,
      collect() {
        this.set(webhooks.unwritten);
      },
    });
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
