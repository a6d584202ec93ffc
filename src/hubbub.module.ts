import { DiscoveryModule } from '@nestjs/core';
import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
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
import { configFromOptions, type HubbubOptions } from './config/options';
import { CoreModule } from './core/core.module';
import { EventBus } from './events/event-bus';
import { EventListeners } from './events/event-listeners';
import { FanoutModule } from './fanout/fanout.module';
import { HttpSurfacesModule } from './api/http-surfaces.module';
import { HttpThrottleModule } from './http/throttle.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { PrometheusObservations } from './metrics/prometheus-observations';
import { PresenceModule } from './presence/presence.module';
import { Tracing } from './tracing/tracing.service';
import { TransportModule } from './ws/transport.module';
import { WebhooksModule } from './webhooks/webhooks.module';

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

/** The feature modules, lowest first. */
const FEATURES = [
  BackendsModule,
  TransportModule,
  FanoutModule,
  LifecycleModule,
  PresenceModule,
  ChatModule,
  AccessModule,
  ChannelsModule,
  CoreModule,
  WebhooksModule,
  MetricsModule,
  AdminModule,
  HttpSurfacesModule,
];

/**
 * The whole Hubbub server as one Nest module, composed of its feature modules: backends, transport, fan-out,
 * lifecycle, presence, chat, access, channels, core, webhooks, metrics, admin and the HTTP surfaces. It holds the
 * configuration and the seams a team may replace (HandshakeAuthenticator, MessageHooks, AccessPolicy; the team's
 * providers come last, so theirs win) and what every feature shares (tracing, tokens, events, observations).
 * Global, so that the modules of the app that imports it can inject Hubbub's services (PushService, ChatService,
 * PresenceService, …). Wiring in the app: `app.useWebSocketAdapter(new HubbubWsAdapter(app))`; the app calls
 * `app.listen` itself (port and host are not Hubbub's options).
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
        DiscoveryModule,
        HttpThrottleModule,
        ...FEATURES,
        ...imports,
        ...(extensions.imports ?? []),
      ],
      providers: [
        config,
        { provide: HandshakeAuthenticator, useClass: JwtHandshakeAuthenticator },
        { provide: MessageHooks, useClass: PassThroughMessageHooks },
        accessPolicyProvider,
        TokenVerifier,
        Tracing,
        EventBus,
        EventListeners,
        PrometheusObservations,
        { provide: Observations, useExisting: PrometheusObservations },
        // Last, so that a team's provider replaces Hubbub's one for the same token.
        ...(extensions.providers ?? []),
      ],
      exports: [
        HUBBUB_CONFIG,
        HandshakeAuthenticator,
        MessageHooks,
        AccessPolicy,
        TokenVerifier,
        Tracing,
        EventBus,
        PrometheusObservations,
        Observations,
        // What a team's modules inject: PushService, ClientRegistry, ChatService, RoomService, PresenceService,
        // ChannelsService, DisconnectService, AccessCheck (MessageStore comes from the global BackendsModule).
        AccessModule,
        FanoutModule,
        TransportModule,
        ChatModule,
        PresenceModule,
        ChannelsModule,
        LifecycleModule,
      ],
    };
  }
}
