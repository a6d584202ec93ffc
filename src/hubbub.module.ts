import { DiscoveryModule } from '@nestjs/core';
import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { AccessModule } from './access/access.module';
import { accessPolicyProvider } from './access/access.providers';
import { AccessPolicy } from './access/access-policy';
import { AdminModule } from './admin/admin.module';
import { HandshakeAuthenticator, JwtHandshakeAuthenticator } from './auth/handshake-authenticator';
import { TokenVerifier } from './auth/token-verifier';
import { BackendsModule } from './backends/backends.module';
import { ChannelsModule } from './channels/channels.module';
import { ChatModule } from './chat/chat.module';
import { MessageHooks, PassThroughMessageHooks } from './chat/message-hooks';
import { Observations } from './common/observations';
import { HUBBUB_CONFIG, type HubbubConfig } from './config/config';
import { ConfigError } from './config/config-error';
import { configFromOptions, type HubbubHttpOptions, type HubbubOptions } from './config/options';
import { CoreModule } from './core/core.module';
import { EventBus } from './events/event-bus';
import { EventListeners } from './events/event-listeners';
import { FanoutModule } from './fanout/fanout.module';
import { HttpSurfacesModule } from './api/http-surfaces.module';
import { HttpThrottleModule } from './http/throttle.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { ModerationModule } from './moderation/moderation.module';
import { PrometheusObservations } from './metrics/prometheus-observations';
import { PresenceModule } from './presence/presence.module';
import { PrivacyModule } from './privacy/privacy.module';
import { RoomRetention } from './privacy/room-retention';
import { SettingsRoomRetention } from './moderation/settings-room-retention';
import { StreamModule } from './stream/stream.module';
import { Tracing } from './tracing/tracing.service';
import { TransportModule } from './ws/transport.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { controllersFor } from './http-routes';
import { OPENAPI_SOURCE, type OpenApiSource } from './openapi/openapi';

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

/** The feature modules, lowest first. */
const FEATURES = [
  BackendsModule,
  TransportModule,
  FanoutModule,
  LifecycleModule,
  StreamModule,
  PresenceModule,
  ChatModule,
  PrivacyModule,
  AccessModule,
  ChannelsModule,
  ModerationModule,
  CoreModule,
  WebhooksModule,
  MetricsModule,
  AdminModule,
];

/**
 * The whole Hubbub server as one Nest module, composed of its feature modules: backends, transport, fan-out,
 * lifecycle, presence, chat, access, channels, core, webhooks, metrics, admin, and the HTTP surfaces the options
 * enable (`http`, each off unless enabled; `devTokens` likewise). The gateways are on `/ws` (attached to the app's
 * HTTP server when it starts: no WebSocket adapter to install). It holds the configuration and the seams a team
 * may replace (HandshakeAuthenticator, MessageHooks, AccessPolicy; the team's providers come last, so theirs win)
 * and what every feature shares (tracing, tokens, events, observations). Global, so that the modules of the app
 * that imports it can inject Hubbub's services (PushService, ChatService, PresenceService, …). The app calls
 * `app.listen` itself (port and host are not Hubbub's options). Options are validated while Nest creates the
 * providers: a bad one stops `NestFactory.create` with Nest's one error line.
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
        HttpThrottleModule,
        ...FEATURES,
        HttpSurfacesModule.register(controllers),
        ...imports,
        ...(extensions.imports ?? []),
      ],
      providers: [
        config,
        { provide: HandshakeAuthenticator, useClass: JwtHandshakeAuthenticator },
        { provide: MessageHooks, useClass: PassThroughMessageHooks },
        { provide: RoomRetention, useClass: SettingsRoomRetention },
        accessPolicyProvider,
        TokenVerifier,
        Tracing,
        EventBus,
        EventListeners,
        PrometheusObservations,
        { provide: Observations, useExisting: PrometheusObservations },
        {
          provide: OPENAPI_SOURCE,
          inject: [HUBBUB_CONFIG],
          useFactory:
            (c: HubbubConfig): OpenApiSource =>
            () =>
              HubbubModule.withConfig(c, {}, { api: true }),
        },
        // Last, so that a team's provider replaces Hubbub's one for the same token.
        ...(extensions.providers ?? []),
      ],
      exports: [
        HUBBUB_CONFIG,
        HandshakeAuthenticator,
        MessageHooks,
        RoomRetention,
        AccessPolicy,
        TokenVerifier,
        Tracing,
        EventBus,
        PrometheusObservations,
        Observations,
        OPENAPI_SOURCE,
        // What a team's modules inject: PushService, ClientRegistry, ChatService, RoomService, PresenceService,
        // ChannelsService, DisconnectService, AccessCheck (MessageStore comes from the global BackendsModule).
        AccessModule,
        FanoutModule,
        TransportModule,
        ChatModule,
        PresenceModule,
        ChannelsModule,
        LifecycleModule,
        ModerationModule,
      ],
    };
  }
}
