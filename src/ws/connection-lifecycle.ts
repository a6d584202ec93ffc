import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { encodePush, frameText } from '../protocol/frames';
import { ClientRegistry } from './client-registry.service';
import { attachConnection, Connection, connectionOf } from './connection';
import { EventBus } from '../events/event-bus';
import type {} from './connection-events';
import { FrameRouter } from './frame-router';
import { GatewayHandlers } from './gateway-handlers';
import { HandshakeService } from './handshake.service';
import { OutboundWriter } from './outbound-writer';

/**
 * From an admitted upgrade to a registered Connection, and back: registers it, runs the gateways'
 * `handleConnection`, sends `welcome`, emits `connection.opened`; on close runs `handleDisconnect`, gives the quota
 * slot back and emits `connection.closed`.
 * The socket listeners are shared by all sockets (`this` is the socket), so a connection costs no closure.
 */
@Injectable()
export class ConnectionLifecycle {
  private readonly log = new Logger('Connection');
  private readonly listeners: {
    message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
    error: (this: WebSocket, err: Error) => void;
    close: (this: WebSocket) => void;
  };

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly registry: ClientRegistry,
    private readonly router: FrameRouter,
    private readonly writer: OutboundWriter,
    private readonly handshake: HandshakeService,
    private readonly bus: EventBus,
    private readonly gateways: GatewayHandlers,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listeners need both `this`es
    const lifecycle = this;
    this.listeners = {
      message(data, isBinary) {
        const conn = connectionOf(this);
        if (conn) router.onMessage(conn, data, isBinary);
      },
      error(err) {
        lifecycle.log.debug(`connection ${connectionOf(this)?.id ?? '?'}: ${err.message}`);
      },
      close() {
        const conn = connectionOf(this);
        if (conn) void lifecycle.closed(conn);
      },
    };
  }

  /**
   * `ws` is a WebSocket, or a stream session that stands for one (src/stream/stream-socket.ts); `welcome` adds
   * fields to the `welcome` push (a stream session's `session`).
   */
  open(
    _wss: WebSocketServer | undefined,
    ws: WebSocket,
    req: IncomingMessage,
    principal: Principal,
    welcome?: Record<string, unknown>,
  ): Connection {
    const conn = new Connection(randomUUID(), ws, principal, this.config.rateLimitBurst);
    attachConnection(ws, conn);
    this.registry.add(conn);
    ws.on('message', this.listeners.message);
    ws.on('pong', markAlive);
    ws.on('error', this.listeners.error);
    ws.on('close', this.listeners.close); // 'close' fires once; `on` spares once's wrapper
    this.gateways.opened(ws, req);
    const data = {
      clientId: conn.id,
      userId: conn.userId,
      node: this.config.nodeId,
      heartbeatMs: this.config.heartbeatIntervalMs,
      serverTime: Date.now(),
      ...welcome,
    };
    this.writer.write(conn, frameText(encodePush('welcome', data)));
    void this.bus.emit('connection.opened', { conn });
    return conn;
  }

  /** Nest's app.close() with sockets still open (no drain ran): cut them, or the HTTP server never closes. */
  terminateAll(): void {
    for (const conn of [...this.registry.all()]) conn.ws.terminate();
  }

  private async closed(conn: Connection): Promise<void> {
    conn.closed = true;
    conn.pending = null;
    if (!this.registry.remove(conn)) return;
    this.gateways.closed(conn.ws);
    await this.handshake.release(conn.principal);
    await this.bus.emit('connection.closed', { conn });
  }
}

function markAlive(this: WebSocket): void {
  const conn = connectionOf(this);
  if (conn) conn.alive = true;
}
