import { Logger, type INestApplication } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { HubbubConfig } from '../config/config';

interface Pending {
  since: number;
  /** Set once the request's headers are in while its body is not: the entry stays until `req.complete`. */
  req: IncomingMessage | undefined;
}

/**
 * Connections that have not yet sent a complete HTTP request (for a WebSocket: the upgrade request; for a request
 * with a body: its last byte). Those older than the timeout are cut. Past `maxPending` of them, over all addresses,
 * the oldest are cut, but only those that have had `promptMs` to send their request: a burst of fresh connections
 * (a proxy, a NAT, clients reconnecting after a restart) is never cut for being a burst, whatever address it comes
 * from. One sweep timer for all connections, none per socket; a socket leaves the table as soon as its request is
 * complete (Nest's `request` or the adapter's `upgrade`, and for a body the sweep seeing `req.complete`) or it
 * closes. The socket tracked is the one requests are served on: the TLS socket when TLS is on.
 */
export class PendingConnections {
  /** In arrival order, so the sweep stops at the first one that is young enough. */
  private readonly pending = new Map<Socket, Pending>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly onSocketClose: (this: Socket) => void;
  private readonly onBodyEnd: (this: IncomingMessage) => void;
  /** A connection younger than this is never cut for the cap: it may still be about to send its request. */
  readonly promptMs: number;
  cut = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxPending: number,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- one listener for every socket, `this` = socket
    const tracker = this;
    this.onSocketClose = function (this: Socket) {
      tracker.done(this);
    };
    this.onBodyEnd = function (this: IncomingMessage) {
      tracker.done(this.socket);
    };
    this.promptMs = Math.min(1000, Math.floor(timeoutMs / 2));
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.min(1000, timeoutMs / 4)));
    this.sweeper.unref();
  }

  opened(socket: Socket): void {
    this.pending.set(socket, { since: Date.now(), req: undefined });
    socket.once('close', this.onSocketClose);
    if (this.pending.size > this.maxPending) this.cutOldest(Date.now() - this.promptMs);
  }

  /** The request's headers are in: done, unless a body is still to come (then done once it is complete). */
  requested(req: IncomingMessage): void {
    const entry = this.pending.get(req.socket);
    if (!entry) return;
    const length = req.headers['content-length'];
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (!hasBody || req.complete) return this.done(req.socket);
    entry.req = req;
    // 'end' comes once the body is read (a body nobody reads is seen complete by the sweep instead).
    req.once('end', this.onBodyEnd);
  }

  /** The socket sent a complete request, or closed. */
  done(socket: Socket): void {
    if (!this.pending.delete(socket)) return;
    socket.off('close', this.onSocketClose);
  }

  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    const deadline = now - this.timeoutMs;
    for (const [socket, entry] of this.pending) {
      if (entry.since > deadline) break;
      this.drop(socket, entry);
    }
    if (this.pending.size > this.maxPending) this.cutOldest(now - this.promptMs);
  }

  /** Oldest first, while over the cap, among those that arrived before `before`. */
  private cutOldest(before: number): void {
    for (const [socket, entry] of this.pending) {
      if (this.pending.size <= this.maxPending || entry.since > before) return;
      this.drop(socket, entry);
    }
  }

  /** Cuts the connection, unless its body has completed since the last look (then it simply leaves the table). */
  private drop(socket: Socket, entry: Pending): void {
    this.done(socket);
    if (entry.req?.complete) return;
    this.cut++;
    socket.destroy();
  }
}

/**
 * Slow and half-open clients: a connection whose request (headers, and body when it has one) is not complete
 * within HANDSHAKE_TIMEOUT_MS is closed, and at most MAX_PENDING_CONNECTIONS such connections are kept, over all
 * addresses (past it the oldest are cut). Node's own `headersTimeout` and `requestTimeout` are lowered to the same
 * bound for later requests on kept-alive connections, and with TLS the TLS handshake has the same bound.
 */
export function applyHandshakeLimits(
  app: INestApplication,
  config: HubbubConfig,
): PendingConnections {
  const server = app.getHttpServer() as Server;
  const tracker = new PendingConnections(config.handshakeTimeoutMs, config.maxPendingConnections);
  // With TLS, requests are served on the TLS socket, which exists once the TLS handshake is done ('secureConnection';
  // the raw TCP socket of 'connection' is never the one a request names). Until then, the TLS server's own
  // `handshakeTimeout` (set from the same key in bootstrap) bounds it.
  // (Whatever made the server: an app that embeds HubbubModule may bring its own HTTPS server.)
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) =>
    tracker.opened(socket),
  );
  server.on('request', (req: IncomingMessage) => tracker.requested(req));
  server.on('upgrade', (req: IncomingMessage) => tracker.done(req.socket));
  server.on('close', () => tracker.stop());
  if (server.headersTimeout > config.handshakeTimeoutMs) {
    server.headersTimeout = config.handshakeTimeoutMs;
  }
  if (server.requestTimeout === 0 || server.requestTimeout > config.handshakeTimeoutMs) {
    server.requestTimeout = config.handshakeTimeoutMs;
  }
  new Logger('Http').debug(
    `handshakes: ${config.handshakeTimeoutMs} ms to complete, at most ${config.maxPendingConnections} pending`,
  );
  return tracker;
}
