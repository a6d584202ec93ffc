import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AccessPolicy } from './access/access-policy';
import { AccessCheck } from './access/access-check';
import { accessProviders } from './access/access.providers';
import { adminProviders } from './admin/admin.providers';
import { channelProviders } from './channels/channel.providers';
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
import { ConfigError } from './config/config-error';
import { configFromOptions, type HubbubHttpOptions, type HubbubOptions } from './config/options';
import { controllersFor } from './http-routes';
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
import { HttpThrottleModule } from './http/throttle.module';
import { Tracing } from './tracing/tracing.service';
import { EventBus } from './events/event-bus';
import { MetricsService } from './metrics/metrics.service';
import { PrometheusObservations } from './metrics/prometheus-observations';
import { Observations } from './common/observations';
import { MessageStore } from './store/message-store';
import { HandshakeService } from './ws/handshake.service';
import { ConnectionLifecycle } from './ws/connection-lifecycle';
import { FrameRouter } from './ws/frame-router';
import { GatewayHandlers } from './ws/gateway-handlers';
import { OutboundWriter } from './ws/outbound-writer';
import { SlowConsumerPolicy } from './ws/slow-consumer.policy';
import { UpgradeGate } from './ws/upgrade-gate';
import { WsTransport } from './ws/ws-transport';
import { webhookProviders } from './webhooks/webhook.providers';

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
  useFactory: (...args: any[]) => AsyncOptions | Promise<AsyncOptions>;
  /** The HTTP routes to mount: given here, not by the factory, because they are chosen when the module is built. */
  http?: HubbubHttpOptions;
  /** `POST /dev/token`: here too, for the same reason. */
  devTokens?: boolean;
}

/** What the factory of forRootAsync returns: every option but the two that decide which routes exist. */
type AsyncOptions = Omit<HubbubOptions, 'http' | 'devTokens'>;

/** Options that shape the module itself, so forRootAsync takes them beside its factory. */
const STATIC_OPTIONS = ['http', 'devTokens'];

/**
 * The whole Hubbub server as one Nest module: the gateways on `/ws` (attached to the app's HTTP server when it
 * starts: no WebSocket adapter to install), the stores, and the HTTP routes the options enable (`http`, each off
 * unless enabled; `devTokens` likewise). Global, so that the modules of the app that imports it can inject Hubbub's
 * services (PushService, ChatService, PresenceService, …). The app calls `app.listen` itself (port and host are not
 * Hubbub's options). Options are validated while Nest creates the providers: a bad one stops
 * `NestFactory.create` with Nest's one error line.
 */
@Module({})
export class HubbubModule {
  /** Options as the typed configuration (the contract's keys, camelCased), validated like the environment. */
  static forRoot(options: HubbubOptions = {}, extensions: HubbubExtensions = {}): DynamicModule {
    const config: FactoryProvider = {
      provide: HUBBUB_CONFIG,
      useFactory: () => configFromOptions(options),
    };
    const controllers = controllersFor(options.http, options.devTokens === true);
    return HubbubModule.build(config, extensions, [], controllers);
  }

  static forRootAsync(async: HubbubAsyncOptions, extensions: HubbubExtensions = {}): DynamicModule {
    const { http, devTokens } = async;
    const config: FactoryProvider = {
      provide: HUBBUB_CONFIG,
      inject: async.inject ?? [],
      useFactory: async (...args: unknown[]) => {
        const options = (await async.useFactory(...args)) as Record<string, unknown>;
        for (const key of STATIC_OPTIONS) {
          if (options[key] !== undefined) {
            throw new ConfigError(
              `Invalid configuration: option ${key} goes beside useFactory in forRootAsync, not in what it returns`,
            );
          }
        }
        return configFromOptions({ ...options, http, devTokens });
      },
    };
    const controllers = controllersFor(http, devTokens === true);
    return HubbubModule.build(config, extensions, async.imports ?? [], controllers);
  }

  /**
   * With a configuration already validated (the standalone server reads it from the environment and mounts every
   * route, `ALL_ROUTES`); `POST /dev/token` is mounted while `config.devTokens`.
   */
  static withConfig(
    config: HubbubConfig,
    extensions: HubbubExtensions = {},
    http: HubbubHttpOptions = {},
  ): DynamicModule {
    const controllers = controllersFor(http, config.devTokens);
    return HubbubModule.build(
      { provide: HUBBUB_CONFIG, useValue: config },
      extensions,
      [],
      controllers,
    );
  }

  private static build(
    config: Provider,
    extensions: HubbubExtensions,
    imports: NonNullable<ModuleMetadata['imports']>,
    controllers: Type[],
  ): DynamicModule {
    return {
      module: HubbubModule,
      global: true,
      imports: [
        DiscoveryModule,
        TerminusModule,
        HttpThrottleModule,
        ...imports,
        ...(extensions.imports ?? []),
      ],
      controllers,
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
        GatewayHandlers,
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
        AccessCheck,
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
