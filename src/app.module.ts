import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiController } from './api/api.controller';
import { ChannelsGateway } from './channels/channels.gateway';
import { ChannelsService } from './channels/channels.service';
import { backendProviders } from './backends/backend.providers';
import { ChatGateway } from './chat/chat.gateway';
import { ChatService } from './chat/chat.service';
import { DisconnectService } from './lifecycle/disconnect.service';
import { PresenceGateway } from './presence/presence.gateway';
import { PresenceService } from './presence/presence.service';
import { RoomService } from './rooms/room.service';
import { HandshakeAuthenticator, JwtHandshakeAuthenticator } from './auth/handshake-authenticator';
import { TokenVerifier } from './auth/token-verifier';
import { HUBBUB_CONFIG, type HubbubConfig } from './config/config';
import { ClientRegistry } from './ws/client-registry.service';
import { ConnectionEvents } from './ws/connection-events';
import { CoreGateway } from './core/core.gateway';
import { DrainState } from './ws/drain-state.service';
import { HeartbeatService } from './lifecycle/heartbeat.service';
import { PushService } from './fanout/push.service';
import { SessionExpiryService } from './lifecycle/session-expiry.service';
import { ShutdownService } from './lifecycle/shutdown.service';
import { StatsService } from './core/stats.service';
import { SubscriptionIndex } from './fanout/subscription-index';
import { DevTokenController } from './dev/dev-token.controller';
import { EventBus } from './events/event-bus';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { MessageStore } from './store/message-store';
import { HandshakeService } from './ws/handshake.service';
import { ConnectionLifecycle } from './ws/connection-lifecycle';
import { FrameRouter } from './ws/frame-router';
import { OutboundWriter } from './ws/outbound-writer';
import { SlowConsumerPolicy } from './ws/slow-consumer.policy';
import { UpgradeGate } from './ws/upgrade-gate';
import { WsTransport } from './ws/ws-transport';
import { webhookProviders } from './webhooks/webhook.providers';
import { WebController } from './web/web.controller';

/** What a team adds to Hubbub without forking it. */
export interface HubbubExtensions {
  /** Your own modules: gateways declared with `@HubbubGateway()`, controllers, providers. */
  imports?: DynamicModule['imports'];
  /** Providers that replace Hubbub's own, e.g. `{ provide: HandshakeAuthenticator, useClass: MyAuthenticator }`. */
  providers?: Provider[];
}

/**
 * The whole server. Built from an already validated configuration, so tests can boot differently configured
 * servers side by side and nothing below reads the environment. Global, so that the modules a team adds can
 * inject Hubbub's services (PushService, ChatService, PresenceService, …).
 */
@Module({})
export class AppModule {
  static forRoot(config: HubbubConfig, extensions: HubbubExtensions = {}): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [TerminusModule, ...(extensions.imports ?? [])],
      controllers: [
        HealthController,
        MetricsController,
        DevTokenController,
        ApiController,
        WebController,
      ],
      providers: [
        { provide: HUBBUB_CONFIG, useValue: config },
        ...backendProviders(config),
        { provide: HandshakeAuthenticator, useClass: JwtHandshakeAuthenticator },
        TokenVerifier,
        EventBus,
        HandshakeService,
        DrainState,
        ClientRegistry,
        ConnectionEvents,
        SubscriptionIndex,
        SlowConsumerPolicy,
        OutboundWriter,
        FrameRouter,
        ConnectionLifecycle,
        UpgradeGate,
        WsTransport,
        PushService,
        MetricsService,
        HeartbeatService,
        SessionExpiryService,
        ShutdownService,
        StatsService,
        DisconnectService,
        RoomService,
        PresenceService,
        ChatService,
        ChannelsService,
        CoreGateway,
        ChatGateway,
        ChannelsGateway,
        PresenceGateway,
        ...webhookProviders,
        // Last, so that a team's provider replaces Hubbub's one for the same token.
        ...(extensions.providers ?? []),
      ],
      exports: [
        HUBBUB_CONFIG,
        EventBus,
        PushService,
        ClientRegistry,
        ConnectionEvents,
        MessageStore,
        RoomService,
        PresenceService,
        ChatService,
        ChannelsService,
        DisconnectService,
        TokenVerifier,
      ],
    };
  }
}
