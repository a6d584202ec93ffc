import { Inject, Injectable } from '@nestjs/common';
import { WebSocketServer } from 'ws';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ConnectionLifecycle } from './connection-lifecycle';
import { FrameRouter } from './frame-router';
import { UpgradeGate } from './upgrade-gate';

/** What the adapter needs from Nest's container, as one injectable: the adapter looks up only this. */
@Injectable()
export class WsTransport {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    readonly gate: UpgradeGate,
    readonly router: FrameRouter,
    readonly lifecycle: ConnectionLifecycle,
  ) {}

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
