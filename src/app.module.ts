import {
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  Inject,
  Injectable,
  type Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiController } from './api/api.controller';
import { ChannelsGateway } from './channels/channels.gateway';
import { ChannelsService } from './channels/channels.service';
import { stateProviders } from './cluster/cluster.providers';
import { ChatGateway } from './chat/chat.gateway';
import { ChatService } from './chat/chat.service';
import { DisconnectService } from './core/disconnect.service';
import { PresenceGateway } from './presence/presence.gateway';
import { PresenceService } from './presence/presence.service';
import { RoomService } from './rooms/room.service';
import { HandshakeAuthenticator, JwtHandshakeAuthenticator } from './auth/handshake-authenticator';
import { TokenVerifier } from './auth/token-verifier';
import { HUBBUB_CONFIG, type HubbubConfig } from './config/config';
import { ClientRegistry } from './core/client-registry.service';
import { ConnectionEvents } from './core/connection-events';
import { CoreGateway } from './core/core.gateway';
import { DrainState } from './core/drain-state.service';
import { HeartbeatService } from './core/heartbeat.service';
import { PushService } from './core/push.service';
import { SessionExpiryService } from './core/session-expiry.service';
import { ShutdownService } from './core/shutdown.service';
import { StatsService } from './core/stats.service';
import { SubscriptionIndex } from './core/subscription-index';
import { DevTokenController } from './dev/dev-token.controller';
import { HealthController } from './health/health.controller';
import { HttpThrottleModule } from './http/throttle.module';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { createMessageStore } from './store/create-message-store';
import { MessageStore } from './store/message-store';
import { HandshakeService } from './ws/handshake.service';
import { OutboundWriter } from './ws/outbound-writer';
import { webhookProviders } from './webhooks/webhook.providers';
import { WebController } from './web/web.controller';

/** Flushes and closes the stores after the connections are gone (Nest runs this hook last). */
@Injectable()
class StoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(MessageStore) private readonly store: MessageStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

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
      imports: [TerminusModule, HttpThrottleModule.forRoot(config), ...(extensions.imports ?? [])],
      controllers: [
        HealthController,
        MetricsController,
        DevTokenController,
        ApiController,
        WebController,
      ],
      providers: [
        { provide: HUBBUB_CONFIG, useValue: config },
        {
          provide: MessageStore,
          useFactory: async () => {
            const store = createMessageStore({
              ...config,
              webhooks: config.webhookUrl !== undefined,
            });
            await store.init();
            return store;
          },
        },
        ...stateProviders(config),
        { provide: HandshakeAuthenticator, useClass: JwtHandshakeAuthenticator },
        StoreLifecycle,
        TokenVerifier,
        HandshakeService,
        DrainState,
        ClientRegistry,
        ConnectionEvents,
        SubscriptionIndex,
        OutboundWriter,
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
