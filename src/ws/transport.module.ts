import { Module } from '@nestjs/common';
import { ClientAddresses } from '../common/client-address';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { DiscoveryModule } from '@nestjs/core';
import { ClientRegistry } from './client-registry.service';
import { ConnectionLifecycle } from './connection-lifecycle';
import { DrainState } from './drain-state.service';
import { FrameRouter } from './frame-router';
import { GatewayHandlers } from './gateway-handlers';
import { HandshakeService } from './handshake.service';
import { OutboundWriter } from './outbound-writer';
import { Overload } from './overload';
import { SlowConsumerPolicy } from './slow-consumer.policy';
import { UpgradeGate } from './upgrade-gate';
import { WsTransport } from './ws-transport';

/**
 * The WebSocket transport: `/ws` on the app's HTTP server (WsTransport), the handshake, each connection's life,
 * frames in (FrameRouter, to the gateways' handlers found by GatewayHandlers) and out (OutboundWriter), the registry
 * of local connections.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    HandshakeService,
    DrainState,
    ClientRegistry,
    SlowConsumerPolicy,
    OutboundWriter,
    Overload,
    FrameRouter,
    GatewayHandlers,
    ConnectionLifecycle,
    UpgradeGate,
    {
      provide: ClientAddresses,
      inject: [HUBBUB_CONFIG],
      useFactory: (c: HubbubConfig) => new ClientAddresses(c.trustedProxies),
    },
    WsTransport,
  ],
  exports: [
    ClientAddresses,
    ClientRegistry,
    ConnectionLifecycle,
    DrainState,
    FrameRouter,
    HandshakeService,
    OutboundWriter,
    Overload,
    SlowConsumerPolicy,
    UpgradeGate,
    WsTransport,
  ],
})
export class TransportModule {}
