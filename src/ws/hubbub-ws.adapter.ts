import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type {
  MessageMappingProperties,
  OnGatewayConnection,
  OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import type { WebSocket, WebSocketServer } from 'ws';
import { connectionOf } from './connection';
import {
  shareGatewayHandlers,
  type SharedHandler,
  type SharedHandlerAdapter,
} from './shared-handlers';
import { WsTransport } from './ws-transport';

/**
 * The transport under every Hubbub gateway: a thin @nestjs/platform-ws adapter. ONE ws server on /ws serves all
 * gateways; the behaviour lives in injectable classes it finds through WsTransport:
 * - UpgradeGate: admits or refuses the HTTP upgrade before any socket exists;
 * - ConnectionLifecycle: registers an admitted socket, lets Nest bind the gateways, `welcome`, close;
 * - FrameRouter: parses each frame once, rate limits, routes it to the gateway that declared its event, and
 *   answers with the request's `id` or a contract `error` frame;
 * - OutboundWriter and SlowConsumerPolicy (used by all of the above): coalesced writes, slow consumers.
 *
 * Wiring, in an app built on Hubbub: `app.useWebSocketAdapter(new HubbubWsAdapter(app))`.
 */
export class HubbubWsAdapter extends WsAdapter implements SharedHandlerAdapter {
  private readonly transport: WsTransport;
  private wss?: WebSocketServer;
  /**
   * The gateway whose connection handler runs now (bindClientConnect), once Nest has handed over its handlers
   * (bindSharedMessageHandlers): its disconnect hook comes next (bindClientDisconnect).
   */
  private connecting?: object;

  constructor(app: INestApplicationContext) {
    super(app);
    shareGatewayHandlers();
    this.transport = app.get(WsTransport, { strict: false });
  }

  override create(_port: number, _options?: Record<string, unknown>): WebSocketServer {
    if (this.wss) return this.wss;
    const wss = (this.wss = this.transport.createServer());
    (this.httpServer as HttpServer).on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        void this.transport.gate.handle(wss, req, socket, head);
      },
    );
    return wss;
  }

  /**
   * Nest registers one connection handler per gateway. After the first connection has registered a gateway's
   * handlers (bindSharedMessageHandlers), the handler of a gateway without connection hooks has nothing left to do,
   * so it is no longer called: one RxJS emission, an arguments array and a closure less per gateway per handshake.
   */
  override bindClientConnect(
    server: WebSocketServer,
    callback: (...args: unknown[]) => void,
  ): void {
    let hooks: boolean | undefined;
    server.on('connection', (...args: unknown[]) => {
      if (hooks === false) return;
      this.connecting = undefined;
      callback(...args);
      // Decided at the first client of ours; for any other client Nest bound the handlers itself.
      if (hooks === undefined && this.connecting) hooks = hasConnectionHooks(this.connecting);
    });
  }

  /** Nest's per-client binding, replaced by bindSharedMessageHandlers for every client of ours. */
  override bindMessageHandlers(
    _client: WebSocket,
    _handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    throw new Error('Hubbub routes gateway handlers itself (see ws/shared-handlers.ts)');
  }

  /** Each gateway's handlers, unbound, registered once with the FrameRouter (see ws/shared-handlers.ts). */
  bindSharedMessageHandlers(client: unknown, handlers: SharedHandler[], gateway: object): boolean {
    if (!connectionOf(client)) return false;
    this.transport.router.share(handlers, gateway);
    this.connecting = gateway;
    return true;
  }

  /**
   * Nest hands every gateway's disconnect hook to every client, right after that gateway's handlers. A gateway
   * without `handleDisconnect` has nothing listening behind its hook, so it costs the client no listener; the
   * others get a plain listener ('close' fires once, so `once` would only add a wrapper and a state object).
   */
  override bindClientDisconnect(client: WebSocket, callback: (...args: unknown[]) => void): void {
    const gateway = this.connecting;
    if (gateway && typeof (gateway as Partial<OnGatewayDisconnect>).handleDisconnect !== 'function')
      return;
    client.on('close', callback);
  }

  override async close(server: WebSocketServer): Promise<void> {
    this.transport.lifecycle.terminateAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function hasConnectionHooks(gateway: object): boolean {
  const g = gateway as Partial<OnGatewayConnection & OnGatewayDisconnect>;
  return typeof g.handleConnection === 'function' || typeof g.handleDisconnect === 'function';
}
