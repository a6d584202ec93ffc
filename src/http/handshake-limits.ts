import { Logger, type INestApplication } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { HubbubConfig } from '../config/config';

/** Connections of one remote address that may be open at once without having sent a complete request. */
export const MAX_PENDING_PER_ADDRESS = 64;

interface Pending {
  since: number;
  address: string;
}

/**
 * Connections that have not yet sent a complete HTTP request (for a WebSocket: the upgrade request). Those older
 * than the timeout are cut, and an address may hold at most `maxPerAddress` of them: one that opens more has the
 * new ones cut at once. One sweep timer for all connections, none per socket; a socket leaves the table as soon as
 * its request headers are complete (Nest's `request` or the adapter's `upgrade`) or it closes.
 */
export class PendingConnections {
  /** In arrival order, so the sweep stops at the first one that is young enough. */
  private readonly pending = new Map<Socket, Pending>();
  private readonly perAddress = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly onSocketClose: (this: Socket) => void;
  cut = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxPerAddress: number,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- one listener for every socket, `this` = socket
    const tracker = this;
    this.onSocketClose = function (this: Socket) {
      tracker.done(this);
    };
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.min(1000, timeoutMs / 4)));
    this.sweeper.unref();
  }

  opened(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.perAddress.get(address) ?? 0;
    if (count >= this.maxPerAddress) {
      this.cut++;
      socket.destroy();
      return;
    }
    this.perAddress.set(address, count + 1);
    this.pending.set(socket, { since: Date.now(), address });
    socket.once('close', this.onSocketClose);
  }

  /** The socket sent a complete request, or closed. */
  done(socket: Socket): void {
    const entry = this.pending.get(socket);
    if (!entry) return;
    this.pending.delete(socket);
    socket.off('close', this.onSocketClose);
    const left = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(entry.address, left);
    else this.perAddress.delete(entry.address);
  }

  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const deadline = Date.now() - this.timeoutMs;
    for (const [socket, entry] of this.pending) {
      if (entry.since > deadline) break;
      this.done(socket);
      this.cut++;
      socket.destroy();
    }
  }
}

/**
 * Slow and half-open clients: a connection whose (upgrade) request is not complete within HANDSHAKE_TIMEOUT_MS is
 * closed, and an address may keep at most MAX_PENDING_PER_ADDRESS such connections open. Node's own
 * `headersTimeout` is lowered to the same bound for later requests on kept-alive connections.
 */
export function applyHandshakeLimits(
  app: INestApplication,
  config: HubbubConfig,
): PendingConnections {
  const server = app.getHttpServer() as Server;
  const tracker = new PendingConnections(config.handshakeTimeoutMs, MAX_PENDING_PER_ADDRESS);
  const complete = (req: IncomingMessage): void => tracker.done(req.socket);
  server.on('connection', (socket: Socket) => tracker.opened(socket));
  server.on('request', complete);
  server.on('upgrade', complete);
  server.on('close', () => tracker.stop());
  if (server.headersTimeout > config.handshakeTimeoutMs) {
    server.headersTimeout = config.handshakeTimeoutMs;
  }
  new Logger('Http').debug(
    `handshakes: ${config.handshakeTimeoutMs} ms to complete, ${MAX_PENDING_PER_ADDRESS} pending per address`,
  );
  return tracker;
}
