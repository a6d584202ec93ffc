import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AccessPolicy } from './access/access-policy';
import { accessProviders } from './access/access.providers';
import { adminProviders } from './admin/admin.providers';
import { ChannelsApiController } from './api/channels-api.controller';
import { channelProviders } from './channels/channel.providers';
import { ApiController } from './api/api.controller';
import { DashboardApiController } from './api/dashboard-api.controller';
import { ChannelsGateway } from './channels/channels.gateway';
import { ChannelsService } from './channels/channels.service';
import { backendProviders } from './backends/backend.providers';
import { ChatGateway } from './chat/chat.gateway';
import { ChatService } from './chat/chat.service';
import { MessageHooks, PassThroughMessageHooks } from './chat/message-hooks';
import { DisconnectService } from './lifecycle/disconnect.service';
import { PresenceGateway } from './presence/presence.gateway';
import { PresenceService } from './presence/presence.service';
import { RoomService } from './rooms/room.service';
import { HandshakeAuthenticator, JwtHandshakeAuthenticator } from './auth/handshake-authenticator';
import { TokenVerifier } from './auth/token-verifier';
import { HUBBUB_CONFIG, type HubbubConfig } from './config/config';
import { configFromOptions, type HubbubOptions } from './config/options';
import { ClientRegistry } from './ws/client-registry.service';
import { ConnectionEvents } from './ws/connection-events';
import { CoreGateway } from './core/core.gateway';
import { DrainState } from './ws/drain-state.service';
import { HeartbeatService } from './lifecycle/heartbeat.service';
import { PushService } from './fanout/push.service';
import { Readiness } from './lifecycle/readiness.service';
import { SessionExpiryService } from './lifecycle/session-expiry.service';
import { ShutdownService } from './lifecycle/shutdown.service';
import { StatsService } from './core/stats.service';
import { SubscriptionIndex } from './fanout/subscription-index';
import { DevTokenController } from './dev/dev-token.controller';
import { HttpThrottleModule } from './http/throttle.module';
import { AsyncApiController } from './docs/asyncapi.controller';
import { HandshakeCheckController } from './http/handshake-check.controller';
import { Tracing } from './tracing/tracing.service';
import { EventBus } from './events/event-bus';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { PrometheusObservations } from './metrics/prometheus-observations';
import { Observations } from './common/observations';
import { MessageStore } from './store/message-store';
import { HandshakeService } from './ws/handshake.service';
import { ConnectionLifecycle } from './ws/connection-lifecycle';
import { FrameRouter } from './ws/frame-router';
import { OutboundWriter } from './ws/outbound-writer';
import { SlowConsumerPolicy } from './ws/slow-consumer.policy';
import { UpgradeGate } from './ws/upgrade-gate';
import { WsTransport } from './ws/ws-transport';
import { webhookProviders } from './webhooks/webhook.providers';
import { AdminPageController } from './web/admin-page.controller';
import { WebController } from './web/web.controller';

/** What a team adds to Hubbub without forking it: its modules, and providers that replace Hubbub's own. */
export interface HubbubExtensions {
  /** Your own modules: gateways declared with `@HubbubGateway()`, controllers, providers. */
  imports?: DynamicModule['imports'];
  /**
   * Providers that replace Hubbub's own for the same token, e.g.
   * `{ provide: MessageHooks, useClass: Moderation }` or `{ provide: HandshakeAuthenticator, useClass: Mine }`.
   */
  providers?: Provider[];
}

/** `HubbubModule.forRootAsync`: the options from a factory, e.g. fed by the team's ConfigService. */
export interface HubbubAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest's own factory signature: injected values
  useFactory: (...args: any[]) => HubbubOptions | Promise<HubbubOptions>;
}

/**
 * The whole Hubbub server as one Nest module: the gateways on `/ws`, the stores, health, the server API,
 * metrics and the chat page. Global, so that the modules of the app that imports it can inject Hubbub's services
 * (PushService, ChatService, PresenceService, …). Wiring in the app: `app.useWebSocketAdapter(new
 * HubbubWsAdapter(app))`; the app calls `app.listen` itself (port and host are not Hubbub's options).
 */
@Module({})
export class HubbubModule {
  /** Options as the typed configuration (the contract's keys, camelCased), validated like the environment. */
  static forRoot(options: HubbubOptions = {}, extensions: HubbubExtensions = {}): DynamicModule {
    return HubbubModule.withConfig(configFromOptions(options), extensions);
  }

  static forRootAsync(async: HubbubAsyncOptions, extensions: HubbubExtensions = {}): DynamicModule {
    const config: FactoryProvider = {
      provide: HUBBUB_CONFIG,
      inject: async.inject ?? [],
      useFactory: async (...args: unknown[]) => configFromOptions(await async.useFactory(...args)),
    };
    return HubbubModule.build(config, extensions, async.imports ?? []);
  }

  /** With a configuration already validated (the standalone server reads it from the environment). */
  static withConfig(config: HubbubConfig, extensions: HubbubExtensions = {}): DynamicModule {
    return HubbubModule.build({ provide: HUBBUB_CONFIG, useValue: config }, extensions, []);
  }

  private static build(
    config: Provider,
    extensions: HubbubExtensions,
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: HubbubModule,
      global: true,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        HttpThrottleModule,
        ...imports,
        ...(extensions.imports ?? []),
      ],
      controllers: [
        HealthController,
        MetricsController,
        DevTokenController,
        ApiController,
        DashboardApiController,
        ChannelsApiController,
        WebController,
        AdminPageController,
        AsyncApiController,
        HandshakeCheckController,
      ],
      providers: [
        config,
        ...backendProviders,
        { provide: HandshakeAuthenticator, useClass: JwtHandshakeAuthenticator },
        { provide: MessageHooks, useClass: PassThroughMessageHooks },
        TokenVerifier,
        Tracing,
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
        PrometheusObservations,
        { provide: Observations, useExisting: PrometheusObservations },
        HeartbeatService,
        SessionExpiryService,
        ShutdownService,
        Readiness,
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
        ...adminProviders,
        ...accessProviders,
        ...channelProviders,
        // Last, so that a team's provider replaces Hubbub's one for the same token.
        ...(extensions.providers ?? []),
      ],
      exports: [
        HUBBUB_CONFIG,
        AccessPolicy,
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
