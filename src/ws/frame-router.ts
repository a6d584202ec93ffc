import { Inject, Injectable, Logger } from '@nestjs/common';
import { EmptyError, isObservable, lastValueFrom } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import { Observations } from '../common/observations';
import { parseFrame, TOO_DEEP, TooDeepFrame } from '../protocol/json-depth';
import { Tracing } from '../tracing/tracing.service';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { CloseCode, ERROR_CODES, HubbubError, type ErrorCode } from '../protocol/errors';
import { encodeReply, frameText, replyEvent, type MessageId } from '../protocol/frames';
import {
  MESSAGE_CARRYING_COST,
  MESSAGE_CARRYING_QUEUE,
  ORDERED_WITH_JOINS,
  REFUSED_WHILE_OVERLOADED,
} from '../protocol/reply-budget';
import type { Connection, WaitingRequest } from './connection';
import { OutboundWriter } from './outbound-writer';
import { Overload } from './overload';
import { RateLimiter } from './rate-limiter';
import { toHubbubError } from './ws-error.filter';

/**
 * A gateway handler with its guards, pipes, interceptors and filters (see gateway-handlers.ts): called with the
 * client's WebSocket, the frame's `data` and the event name, as Nest's WS context expects them.
 */
export type GatewayHandler = (
  this: object,
  client: WebSocket,
  data: unknown,
  event: string,
) => unknown;

interface Route {
  handler: GatewayHandler;
  gateway: object;
}

/** Protocol frames the router answers itself, before any gateway: `ping` → `pong {ts}`. */
export const PROTOCOL_EVENTS: ReadonlySet<string> = new Set(['ping']);

function pong(): { ts: number } {
  return { ts: Date.now() };
}

const TOKEN_EXPIRED = new HubbubError('token_expired');

/** How long a flooding connection's in-flight requests may take before its 4429 close goes out anyway. */
const FLOOD_CLOSE_WAIT_MS = 2000;

/**
 * Every inbound frame, once: parse, rate limit (and the flood policy), route to whichever gateway declared the
 * event, reply with the request's `id`, and answer every failure as a contract `error` frame. One route table
 * serves all connections: gateway handlers are registered once per gateway, not bound to each connection, so a
 * connection costs no handler, rxjs pipeline or closure.
 */
@Injectable()
export class FrameRouter {
  private readonly log = new Logger('FrameRouter');
  private readonly limiter: RateLimiter;
  /** Joins and subscribes that may wait behind the running message-carrying request, besides the reads. */
  private readonly joinsWaiting: number;
  /** Event name to the gateway handler that declared it (GatewayHandlers refuses an event declared twice). */
  private readonly routes = new Map<string, Route>([['ping', { handler: pong, gateway: this }]]);
  /** Client messages received, and error frames sent by code: plain numbers, read by metrics at scrape time. */
  received = 0;
  /** Connections closed with 4429 for flooding. */
  floodCloses = 0;
  readonly errors = new Map<ErrorCode, number>(ERROR_CODES.map((code) => [code, 0]));

  constructor(
    @Inject(HUBBUB_CONFIG) config: HubbubConfig,
    private readonly writer: OutboundWriter,
    private readonly observe: Observations,
    private readonly tracing: Tracing,
    private readonly overload: Overload,
  ) {
    this.limiter = new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst);
    this.joinsWaiting = config.maxSubscriptions;
  }

  /** One gateway handler, built once at start (see gateway-handlers.ts). */
  register(event: string, route: Route): void {
    this.routes.set(event, route);
  }

  /** The events answered: the protocol's and those some gateway handles. */
  events(): string[] {
    return [...this.routes.keys()];
  }

  onMessage(conn: Connection, raw: RawData, isBinary: boolean): void {
    conn.alive = true;
    this.received++;
    if (conn.closed || conn.closeWhenIdle) return;
    const now = Date.now();
    const allowed = this.limiter.take(conn, now);

    let message: unknown;
    if (!isBinary) {
      try {
        // binaryType is 'nodebuffer' (ws joins fragments), so text frames always arrive as one Buffer.
        message = parseFrame(raw as Buffer);
      } catch {
        if (allowed) return this.sendError(conn, undefined, new HubbubError('bad_json'));
      }
    }
    const frame = isPlainObject(message) ? message : undefined;
    const id = frame && isMessageId(frame.id) ? frame.id : undefined;

    if (!allowed) return this.refuse(conn, id, now);
    if (isBinary) {
      const error = new HubbubError('bad_request', 'Binary frames are not accepted');
      return this.sendError(conn, undefined, error);
    }
    if (message instanceof TooDeepFrame) return this.sendError(conn, id, TOO_DEEP);
    if (!frame || typeof frame.event !== 'string') {
      return this.sendError(conn, id, new HubbubError('bad_request'));
    }
    if (frame.id !== undefined && id === undefined) {
      const error = new HubbubError('bad_request', '"id" must be a string or a number');
      return this.sendError(conn, undefined, error);
    }
    const route = this.routes.get(frame.event);
    if (!route) {
      const error = new HubbubError('unknown_event', `Unknown event "${frame.event}"`);
      return this.sendError(conn, id, error);
    }
    // What the handshake established still holds: the token has not expired since (SessionExpiryService closes
    // the socket about a second after `exp`; a request in between gets this answer). Checked here for every
    // gateway, Hubbub's and a team's, instead of a guard on each.
    if (conn.principal.expiresAt <= now) return this.sendError(conn, id, TOKEN_EXPIRED);
    const data = frame.data === undefined ? {} : frame.data;
    if (this.overload.active && REFUSED_WHILE_OVERLOADED.has(frame.event)) {
      return this.sendError(conn, id, this.overload.error());
    }
    const cost =
      MESSAGE_CARRYING_COST.get(frame.event) ??
      (ORDERED_WITH_JOINS.has(frame.event) ? 1 : undefined);
    if (cost !== undefined) return this.carrying(conn, route, frame.event, id, data, now, cost);
    this.dispatch(conn, route, frame.event, id, data);
  }

  sendError(conn: Connection, id: MessageId | undefined, error: HubbubError): void {
    this.errors.set(error.code, (this.errors.get(error.code) ?? 0) + 1);
    this.writer.write(conn, frameText(encodeReply('error', id, error.toBody())));
  }

  /**
   * A request whose reply carries messages (protocol/reply-budget.ts): it takes `cost` tokens, and
   * runs only when no other one of the connection runs; else it waits its turn. At most MESSAGE_CARRYING_QUEUE
   * reads (cost above 1) wait, and at most MAX_SUBSCRIPTIONS joins and subscribes besides: a client rejoining its
   * rooms and channels after a reconnect sends them all at once, and each can take only a subscription slot. So one
   * socket's burst is served one at a time, each on its own turn of the event loop, and other connections' frames
   * are read in between. An overloaded instance refuses them (`overloaded`). Leaves and unsubscribes
   * (ORDERED_WITH_JOINS) take the same turns, so that none overtakes a join or subscribe sent before it.
   */
  private carrying(
    conn: Connection,
    route: Route,
    event: string,
    id: MessageId | undefined,
    data: unknown,
    now: number,
    cost: number,
  ): void {
    if (this.overload.active && MESSAGE_CARRYING_COST.has(event)) {
      return this.sendError(conn, id, this.overload.error());
    }
    if (!this.limiter.takeMore(conn, cost - 1)) return this.refuse(conn, id, now, cost);
    if (!conn.carrying) {
      conn.carrying = true;
      return this.dispatch(conn, route, event, id, data);
    }
    const waiting = (conn.waiting ??= []);
    const full =
      cost > 1
        ? waiting.reduce((n, w) => n + (w.cost > 1 ? 1 : 0), 0) >= MESSAGE_CARRYING_QUEUE
        : waiting.length >= MESSAGE_CARRYING_QUEUE + this.joinsWaiting;
    if (full) {
      const retryAfterMs = this.limiter.retryAfterMs(conn, cost);
      const error = new HubbubError('rate_limited', 'Too many requests waiting', { retryAfterMs });
      return this.sendError(conn, id, error);
    }
    conn.inflight++; // a flood close waits for it like for a running request
    waiting.push({ event, id, data, cost });
  }

  /** The running message-carrying request was answered: the next waiting one starts on a later turn. */
  private carried(conn: Connection): void {
    if (conn.waiting === null || conn.waiting.length === 0 || conn.closed) {
      // A closed connection's waiting requests are dropped unanswered.
      if (conn.waiting) conn.inflight -= conn.waiting.length;
      conn.carrying = false;
      conn.waiting = null;
      return;
    }
    setImmediate(startWaiting, this, conn);
  }

  /** Starts the oldest waiting request (the connection may have closed since it was queued). */
  startWaiting(conn: Connection): void {
    if (conn.closed) return this.carried(conn);
    const next = conn.waiting!.shift() as WaitingRequest;
    conn.inflight--; // dispatch counts it again
    if (this.overload.active && MESSAGE_CARRYING_COST.has(next.event)) {
      this.sendError(conn, next.id, this.overload.error());
      return this.carried(conn);
    }
    this.dispatch(conn, this.routes.get(next.event)!, next.event, next.id, next.data);
  }

  /** Over the rate limit: `rate_limited`, or, past RATE_LIMIT_BURST refusals in 10 s, close 4429. */
  private refuse(conn: Connection, id: MessageId | undefined, now: number, need = 1): void {
    if (!this.limiter.refuse(conn, now)) {
      const retryAfterMs = this.limiter.retryAfterMs(conn, need);
      return this.sendError(conn, id, new HubbubError('rate_limited', undefined, { retryAfterMs }));
    }
    this.floodCloses++;
    // Requests accepted before the flood still get their answers, then the close frame.
    conn.closeWhenIdle = { code: CloseCode.Flooding, reason: 'rate limit exceeded repeatedly' };
    if (conn.inflight === 0) this.closeIdle(conn);
    else setTimeout(closeFlooding, FLOOD_CLOSE_WAIT_MS, this.writer, conn).unref();
  }

  /**
   * Runs the handler and answers. A handler that answers synchronously (`ping`) is answered in the same call,
   * without a promise; anything else when its promise (or Observable) settles.
   */
  private dispatch(
    conn: Connection,
    route: Route,
    event: string,
    id: MessageId | undefined,
    data: unknown,
  ): void {
    conn.inflight++;
    const started = performance.now();
    let result: unknown;
    try {
      const { handler, gateway } = route;
      result = this.tracing.enabled
        ? this.tracing.request(event, (d, e) => handler.call(gateway, conn.ws, d, e), data)
        : handler.call(gateway, conn.ws, data, event);
    } catch (err) {
      return this.answer(conn, event, id, started, err, true);
    }
    if (isObservable(result)) result = lastValueFrom(result, { defaultValue: undefined });
    if (!isThenable(result)) return this.answer(conn, event, id, started, result, false);
    result.then(
      (value: unknown) => this.settled(conn, event, id, started, value),
      (err: unknown) => this.answer(conn, event, id, started, err, true),
    );
  }

  /** A handler's promise resolved: with a value, or with an Observable still to run. */
  private settled(
    conn: Connection,
    event: string,
    id: MessageId | undefined,
    started: number,
    value: unknown,
  ): void {
    if (!isObservable(value)) return this.answer(conn, event, id, started, value, false);
    lastValueFrom(value, { defaultValue: undefined }).then(
      (last: unknown) => this.answer(conn, event, id, started, last, false),
      (err: unknown) => this.answer(conn, event, id, started, err, true),
    );
  }

  /** The reply (or the error frame), the request's duration, and a close that waited for it. */
  private answer(
    conn: Connection,
    event: string,
    id: MessageId | undefined,
    started: number,
    outcome: unknown,
    failed: boolean,
  ): void {
    // An Observable that completed without a value answers as a handler that returned nothing.
    if (failed && outcome instanceof EmptyError) [failed, outcome] = [false, undefined];
    if (!failed && id !== undefined) {
      let reply: Buffer | undefined;
      try {
        reply = frameText(encodeReply(replyEvent(event), id, outcome ?? {}));
      } catch (err) {
        // A result that cannot be serialized (a cycle, a BigInt) is the handler's fault: `internal`, logged.
        [failed, outcome] = [true, toHubbubError(err, this.log)];
      }
      if (reply) this.writer.write(conn, reply);
    }
    // An Error a handler threw was logged by Nest's exception handler already (unless it is a HubbubError or an
    // HttpException: an answer, not a fault).
    if (failed)
      this.sendError(
        conn,
        id,
        toHubbubError(outcome, outcome instanceof Error ? undefined : this.log),
      );
    this.observe.request(event, (performance.now() - started) / 1000);
    if (conn.carrying && (MESSAGE_CARRYING_COST.has(event) || ORDERED_WITH_JOINS.has(event))) {
      this.carried(conn);
    }
    conn.inflight--;
    if (conn.closeWhenIdle && conn.inflight === 0) this.closeIdle(conn);
  }

  private closeIdle(conn: Connection): void {
    const { code, reason } = conn.closeWhenIdle!;
    this.writer.close(conn, code, reason);
  }
}

function startWaiting(router: FrameRouter, conn: Connection): void {
  router.startWaiting(conn);
}

function closeFlooding(writer: OutboundWriter, conn: Connection): void {
  writer.close(conn, CloseCode.Flooding, 'rate limit exceeded repeatedly');
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessageId(value: unknown): value is MessageId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
