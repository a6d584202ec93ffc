import { Logger, type INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { HandshakeRejection } from '../auth/handshake-authenticator';
import type { Principal } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ClientRegistry } from '../core/client-registry.service';
import { ConnectionEvents } from '../core/connection-events';
import { PushService } from '../core/push.service';
import { MetricsService } from '../metrics/metrics.service';
import { CloseCode, HubbubError } from '../protocol/errors';
import type { MessageId } from '../protocol/frames';
import { parseFrame, TOO_DEEP, TooDeepFrame } from '../protocol/json-depth';
import { attachConnection, Connection, connectionOf } from './connection';
import { WS_PATH } from './decorators';
import { HandshakeService } from './handshake.service';
import { OutboundWriter } from './outbound-writer';
import { RateLimiter } from './rate-limiter';
import { toHubbubError } from './ws-error.filter';

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** How long a slow consumer that was sent a close frame may keep its socket without reading. */
const SLOW_CONSUMER_GRACE_MS = 5000;

type Route = (data: unknown, event: string) => unknown;

/** Module-level listeners (with `this` = the socket) so that no per-connection closure keeps the upgrade alive. */
function destroySocket(this: Duplex): void {
  this.destroy();
}
function markAlive(this: WebSocket): void {
  const conn = connectionOf(this);
  if (conn) conn.alive = true;
}

/**
 * The transport under every Hubbub gateway, built on @nestjs/platform-ws:
 * - ONE ws server on /ws for all gateways, upgraded only after HandshakeService admitted the request, so a
 *   refused client gets a plain HTTP status and no socket, and no frame can arrive before authentication;
 * - each frame parsed once and routed to whichever gateway declared its event;
 * - replies tied to the request `id`; every failure answered as a contract `error` frame (this adapter and
 *   WsErrorFilter are the only places that produce them);
 * - no rxjs pipeline per connection: one route index for all, each Connection keeps an array of its handlers.
 */
export class HubbubWsAdapter extends WsAdapter {
  private readonly log = new Logger('HubbubWsAdapter');
  private wss?: WebSocketServer;
  private config!: HubbubConfig;
  private handshake!: HandshakeService;
  private registry!: ClientRegistry;
  private push!: PushService;
  private writer!: OutboundWriter;
  private events!: ConnectionEvents;
  private metrics!: MetricsService;
  private limiter!: RateLimiter;
  /** Event name to its slot in every Connection's `routes` array: one Map for all connections. */
  private readonly routeIndex = new Map<string, number>();
  /** Shared by all sockets: `this` is the socket, so no closure per connection. */
  private readonly socketListeners: {
    message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
    error: (this: WebSocket, err: Error) => void;
    close: (this: WebSocket) => void;
  };

  constructor(private readonly app: INestApplication) {
    super(app);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listeners below need both `this`es
    const adapter = this;
    this.socketListeners = {
      message(data, isBinary) {
        const conn = connectionOf(this);
        if (conn) adapter.onMessage(conn, data, isBinary);
      },
      error(err) {
        adapter.log.debug(`connection ${connectionOf(this)?.id ?? '?'}: ${err.message}`);
      },
      close() {
        const conn = connectionOf(this);
        if (conn) void adapter.onClose(conn);
      },
    };
  }

  override create(_port: number, _options?: Record<string, unknown>): WebSocketServer {
    if (this.wss) return this.wss;
    const get = <T>(token: unknown): T => this.app.get(token as never, { strict: false });
    this.config = get<HubbubConfig>(HUBBUB_CONFIG);
    this.handshake = get(HandshakeService);
    this.registry = get(ClientRegistry);
    this.push = get(PushService);
    this.writer = get(OutboundWriter);
    this.events = get(ConnectionEvents);
    this.metrics = get(MetricsService);
    this.limiter = new RateLimiter(this.config.rateLimitPerSec, this.config.rateLimitBurst);
    this.writer.configure(this.config.maxBufferedBytes, (conn) => this.dropSlowConsumer(conn));
    this.metrics.connections = () => this.registry.size;

    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.config.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    (this.httpServer as HttpServer).on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        void this.upgrade(req, socket, head);
      },
    );
    return this.wss;
  }

  override bindMessageHandlers(
    client: WebSocket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    const conn = connectionOf(client);
    if (!conn) return;
    for (const handler of handlers) {
      const event = handler.message as string;
      let slot = this.routeIndex.get(event);
      if (slot === undefined) this.routeIndex.set(event, (slot = this.routeIndex.size));
      conn.routes[slot] = handler.callback as Route;
    }
  }

  /** Nest's app.close(): connections still open here (no drain ran) are cut, or the HTTP server never closes. */
  override async close(server: WebSocketServer): Promise<void> {
    for (const conn of [...this.registry.all()]) conn.ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', destroySocket);
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== WS_PATH) return this.refuse(socket, 404, 'no WebSocket endpoint here');

    let principal: Principal;
    try {
      principal = await this.handshake.admit(req);
    } catch (err) {
      if (err instanceof HandshakeRejection) return this.refuse(socket, err.status, err.message);
      this.log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return this.refuse(socket, 500, 'internal error');
    }
    // The slot is ours from here: give it back if ws refuses the upgrade or the peer went away meanwhile.
    const giveBack = (): void => void this.handshake.release(principal);
    socket.once('close', giveBack);
    if (socket.destroyed) return;
    this.wss!.handleUpgrade(req, socket, head, (ws) => {
      // ws owns the socket now; dropping these listeners also lets this upgrade's request and buffers go.
      socket.off('close', giveBack);
      socket.off('error', destroySocket);
      this.open(ws, req, principal);
    });
  }

  private refuse(socket: Duplex, status: number, reason: string): void {
    if (socket.destroyed) return;
    const body = JSON.stringify({ statusCode: status, message: reason });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
        'Connection: close\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private open(ws: WebSocket, req: IncomingMessage, principal: Principal): void {
    const conn = new Connection(randomUUID(), ws, principal, this.config.rateLimitBurst);
    attachConnection(ws, conn);
    this.registry.add(conn);
    ws.on('message', this.socketListeners.message);
    ws.on('pong', markAlive);
    ws.on('error', this.socketListeners.error);
    ws.once('close', this.socketListeners.close);
    // Nest's gateways bind their handlers (bindMessageHandlers) and run handleConnection synchronously here.
    this.wss!.emit('connection', ws, req);
    this.push.send(conn, 'welcome', {
      clientId: conn.id,
      userId: conn.userId,
      node: this.config.nodeId,
      heartbeatMs: this.config.heartbeatIntervalMs,
      serverTime: Date.now(),
    });
    void this.events.opened(conn);
  }

  private async onClose(conn: Connection): Promise<void> {
    conn.closed = true;
    conn.pending = null;
    if (!this.registry.remove(conn)) return;
    await this.handshake.release(conn.principal);
    await this.events.closed(conn);
  }

  private onMessage(conn: Connection, raw: RawData, isBinary: boolean): void {
    conn.alive = true;
    this.metrics.messagesReceived++;
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

    if (!allowed) {
      if (this.limiter.refuse(conn, now)) {
        // Requests accepted before the flood still get their answers, then the close frame.
        conn.closeWhenIdle = { code: CloseCode.Flooding, reason: 'rate limit exceeded repeatedly' };
        if (conn.inflight === 0)
          this.writer.close(conn, conn.closeWhenIdle.code, conn.closeWhenIdle.reason);
        else
          setTimeout(
            () => this.writer.close(conn, CloseCode.Flooding, 'rate limit exceeded repeatedly'),
            2000,
          ).unref();
        return;
      }
      const retryAfterMs = this.limiter.retryAfterMs(conn);
      return this.sendError(conn, id, new HubbubError('rate_limited', undefined, { retryAfterMs }));
    }
    if (isBinary) {
      return this.sendError(
        conn,
        undefined,
        new HubbubError('bad_request', 'Binary frames are not accepted'),
      );
    }
    if (message instanceof TooDeepFrame) return this.sendError(conn, id, TOO_DEEP);
    if (!frame || typeof frame.event !== 'string') {
      return this.sendError(conn, id, new HubbubError('bad_request'));
    }
    if (frame.id !== undefined && id === undefined) {
      return this.sendError(
        conn,
        undefined,
        new HubbubError('bad_request', '"id" must be a string or a number'),
      );
    }
    const slot = this.routeIndex.get(frame.event);
    const route = slot === undefined ? undefined : conn.routes[slot];
    if (!route) {
      return this.sendError(
        conn,
        id,
        new HubbubError('unknown_event', `Unknown event "${frame.event}"`),
      );
    }
    void this.dispatch(conn, route, frame.event, id, frame.data === undefined ? {} : frame.data);
  }

  private async dispatch(
    conn: Connection,
    route: Route,
    event: string,
    id: MessageId | undefined,
    data: unknown,
  ): Promise<void> {
    conn.inflight++;
    try {
      let result = await route(data, event);
      if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: undefined });
      if (id !== undefined)
        this.push.reply(conn, event === 'ping' ? 'pong' : event, id, result ?? {});
    } catch (err) {
      this.sendError(conn, id, toHubbubError(err, this.log));
    } finally {
      conn.inflight--;
      if (conn.closeWhenIdle && conn.inflight === 0) {
        this.writer.close(conn, conn.closeWhenIdle.code, conn.closeWhenIdle.reason);
      }
    }
  }

  private sendError(conn: Connection, id: MessageId | undefined, error: HubbubError): void {
    this.metrics.error(error.code);
    this.push.reply(conn, 'error', id, error.toBody());
  }

  private dropSlowConsumer(conn: Connection): void {
    if (conn.closed) return;
    this.log.warn(`closing slow consumer ${conn.id} (user ${conn.userId})`);
    this.writer.close(conn, CloseCode.TryAgainLater, 'slow consumer');
    setTimeout(() => conn.ws.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessageId(value: unknown): value is MessageId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
