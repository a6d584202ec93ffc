import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ConnectionLifecycle } from './connection-lifecycle';
import { FrameRouter } from './frame-router';
import { UpgradeGate } from './upgrade-gate';

/**
 * The `/ws` endpoint on the app's own HTTP server (HTTPS with TLS), attached when the app starts, before it
 * listens; no Nest WebSocket adapter is involved. The behaviour lives in the classes it hands over to:
 * - UpgradeGate: admits or refuses the HTTP upgrade before any socket exists;
 * - ConnectionLifecycle: registers an admitted socket, runs the gateways' connection hooks, `welcome`, close;
 * - FrameRouter: parses each frame once, rate limits, routes it to the gateway handler that declared its event
 *   (GatewayHandlers), and answers with the request's `id` or a contract `error` frame;
 * - OutboundWriter and SlowConsumerPolicy (used by all of the above): coalesced writes, slow consumers.
 */
@Injectable()
export class WsTransport implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private wss?: WebSocketServer;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly host: HttpAdapterHost,
    readonly gate: UpgradeGate,
    readonly router: FrameRouter,
    readonly lifecycle: ConnectionLifecycle,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.host.httpAdapter?.getHttpServer() as HttpServer | undefined;
    if (!server || this.wss) return;
    const wss = (this.wss = this.createServer());
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.gate.handle(wss, req, socket, head);
    });
  }

  /** app.close() with sockets still open (no drain ran): cut them, or the HTTP server never closes. */
  async beforeApplicationShutdown(): Promise<void> {
    const wss = this.wss;
    if (!wss) return;
    this.lifecycle.terminateAll();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  /** One ws server for every gateway; it never listens itself (the gate hands it admitted upgrades). */
  createServer(): WebSocketServer {
    return new WebSocketServer({
      noServer: true,
      maxPayload: this.config.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }
}
