import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { HubbubError } from '../protocol/errors';

const TRACEPARENT = 'traceparent';

/**
 * OpenTelemetry traces, when the configuration has an OTLP endpoint: starts the OTel Node SDK (OTLP/HTTP with JSON
 * bodies, W3C trace context) and makes the spans of the handshake (`ws handshake`), of each request (`ws <event>`),
 * of the store append, of the broker publish and remote delivery, and of webhook deliveries.
 *
 * Off, `enabled` is false and every helper here runs the wrapped work directly; callers on the per-message hot path
 * test `enabled` themselves, so that not even a closure is made for tracing that is off.
 */
@Injectable()
export class Tracing implements OnModuleInit, OnApplicationShutdown {
  readonly enabled: boolean;
  private sdk?: { shutdown(): Promise<void> };
  private readonly tracer: Tracer;

  constructor(@Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig) {
    this.enabled = config.tracing !== undefined;
    // A proxy until the SDK registers its provider, then the SDK's tracer.
    this.tracer = trace.getTracer('hubbub');
  }

  /** Loads and starts the SDK only when tracing is on; nothing of it is even loaded otherwise. */
  onModuleInit(): void {
    if (!this.config.tracing) return;
    // A plain require: the SDK is a large module tree (seconds on a busy machine) that only tracing needs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startTracingSdk } = require('./tracing-sdk') as typeof import('./tracing-sdk');
    this.sdk = startTracingSdk(this.config.tracing, this.config.nodeId);
  }

  /** Flushes the spans still buffered; Nest runs it after the connections and stores are closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.sdk?.shutdown();
  }

  /** Runs `work` inside a new active span that ends when it settles; a failure is recorded on the span. */
  span<T>(
    name: string,
    attributes: Attributes,
    work: () => Promise<T>,
    kind: SpanKind = SpanKind.INTERNAL,
  ): Promise<T> {
    if (!this.enabled) return work();
    return this.tracer.startActiveSpan(name, { kind, attributes }, (span) => settle(span, work));
  }

  /** `ws <event>` around one routed request; the error code it ends with is recorded (`hubbub.error`). */
  request(
    event: string,
    route: (data: unknown, event: string) => unknown,
    data: unknown,
  ): Promise<unknown> {
    return this.tracer.startActiveSpan(
      `ws ${event}`,
      { kind: SpanKind.SERVER, attributes: { 'hubbub.event': event } },
      (span) => settle(span, () => route(data, event)),
    );
  }

  /** `ws handshake`: child of the client's trace when its upgrade request carries a `traceparent` header. */
  handshake<T>(request: IncomingMessage, admit: () => Promise<T>): Promise<T> {
    if (!this.enabled) return admit();
    const parent = propagation.extract(context.active(), request.headers);
    return context.with(parent, () =>
      this.span('ws handshake', { 'url.path': '/ws' }, admit, SpanKind.SERVER),
    );
  }

  /** Adds attributes to the active span (nothing when off or outside a span). */
  annotate(attributes: Attributes): void {
    if (this.enabled) trace.getActiveSpan()?.setAttributes(attributes);
  }

  /** The W3C `traceparent` of the active span, to carry inside a message to another instance. */
  traceparent(): string | undefined {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return carrier[TRACEPARENT];
  }

  /** Runs `work` in a span whose parent is the remote span named by `traceparent`. */
  consume(name: string, traceparent: string, attributes: Attributes, work: () => void): void {
    const parent = propagation.extract(context.active(), { [TRACEPARENT]: traceparent });
    this.tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, (span) => {
      try {
        work();
      } catch (err) {
        fail(span, err);
        throw err;
      } finally {
        span.end();
      }
    });
  }
}

async function settle<T>(span: Span, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    fail(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A contract error (client input) is an outcome, not a fault: its code only; anything else also its message. */
function fail(span: Span, err: unknown): void {
  if (err instanceof HubbubError) {
    span.setAttribute('hubbub.error', err.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.code });
    return;
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
}
