import { Module } from '@nestjs/common';
import { ClientRegistry } from './client-registry.service';
import { ConnectionLifecycle } from './connection-lifecycle';
import { DrainState } from './drain-state.service';
import { FrameRouter } from './frame-router';
import { HandshakeService } from './handshake.service';
import { OutboundWriter } from './outbound-writer';
import { SlowConsumerPolicy } from './slow-consumer.policy';
import { UpgradeGate } from './upgrade-gate';
import { WsTransport } from './ws-transport';

/**
 * The WebSocket transport: the handshake, each connection's life, frames in (FrameRouter) and out (OutboundWriter),
 * the registry of local connections. HubbubWsAdapter finds WsTransport in the app.
 */
@Module({
  providers: [
    HandshakeService,
    DrainState,
    ClientRegistry,
    SlowConsumerPolicy,
    OutboundWriter,
    FrameRouter,
    ConnectionLifecycle,
    UpgradeGate,
    WsTransport,
  ],
  exports: [
    ClientRegistry,
    DrainState,
    FrameRouter,
    OutboundWriter,
    SlowConsumerPolicy,
    UpgradeGate,
    WsTransport,
  ],
})
export class TransportModule {}
