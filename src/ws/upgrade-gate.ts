import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { HandshakeRejection } from '../auth/handshake-authenticator';
import type { Principal } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ClientAddresses } from '../common/client-address';
import { Tracing } from '../tracing/tracing.service';
import { ConnectionLifecycle } from './connection-lifecycle';
import { WS_PATH } from './decorators';
import { HandshakeService } from './handshake.service';
import { loggableError } from '../common/log-error';

/** How a handshake ended, by the HTTP status it got (101: upgraded): a closed list, so bounded metric labels. */
const HANDSHAKE_RESULTS: Record<number, string> = {
  101: 'accepted',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_connections',
  500: 'error',
  503: 'draining',
};
const OTHER_RESULT = 'refused';

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The HTTP upgrade, before any socket exists: the path, then HandshakeService (draining, origin, token, quota).
 * A refused request gets a plain HTTP status. A quota slot taken by `admit` is given back on every path that
 * does not end in an open connection: refused by ws, or the peer gone (even during the authentication await).
 */
@Injectable()
export class UpgradeGate {
  private readonly log = new Logger('Upgrade');
  /** Handshakes by result (every result listed from the start, at 0): plain numbers, read by metrics. */
  readonly results = new Map<string, number>(
    [...Object.values(HANDSHAKE_RESULTS), OTHER_RESULT].map((result) => [result, 0]),
  );

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly handshake: HandshakeService,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly tracing: Tracing,
    private readonly addresses: ClientAddresses,
  ) {}

  async handle(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', destroySocket);
    if (pathOf(req.url) !== WS_PATH || !this.config.transports.has('websocket'))
      return this.refuse(req, socket, 404, 'no WebSocket endpoint here');

    let principal: Principal;
    try {
      principal = await this.tracing.handshake(req, () => this.handshake.admit(req));
    } catch (err) {
      if (err instanceof HandshakeRejection)
        return this.refuse(req, socket, err.status, err.message);
      this.log.error(loggableError(err));
      return this.refuse(req, socket, 500, 'internal error');
    }
    // The slot is ours from here. The peer may have reset while we awaited: its 'close' has then already fired.
    if (socket.destroyed) return this.handshake.release(principal);
    const giveBack = (): void => void this.handshake.release(principal);
    socket.once('close', giveBack);
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws owns the socket now; dropping these listeners also lets this upgrade's request and buffers go.
      socket.off('close', giveBack);
      socket.off('error', destroySocket);
      this.count(101 /* accepted */);
      this.lifecycle.open(wss, ws, req, principal);
    });
  }

  /** Counts a handshake by its HTTP status (101 accepted); the HTTP transports' session opens count here too. */
  count(status: number): void {
    const result = HANDSHAKE_RESULTS[status] ?? OTHER_RESULT;
    this.results.set(result, (this.results.get(result) ?? 0) + 1);
  }

  private refuse(req: IncomingMessage, socket: Duplex, status: number, reason: string): void {
    this.count(status);
    this.log.debug(`handshake from ${this.addresses.of(req)} refused (${status}): ${reason}`);
    if (socket.destroyed) return;
    const body = JSON.stringify({ statusCode: status, message: reason });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
        'Connection: close\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}

/** The request target's path: `/ws` and `/ws?…` without parsing a URL (every handshake), the rest through URL. */
function pathOf(url = '/'): string {
  if (url === WS_PATH || (url.startsWith(WS_PATH) && url.charCodeAt(WS_PATH.length) === 63) /* ? */)
    return WS_PATH;
  return new URL(url, 'http://localhost').pathname;
}

/** Module-level, with `this` = the socket, so that no per-upgrade closure keeps the request alive. */
function destroySocket(this: Duplex): void {
  this.destroy();
}
