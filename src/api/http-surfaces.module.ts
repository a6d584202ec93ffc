import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ChannelsModule } from '../channels/channels.module';
import { ChatModule } from '../chat/chat.module';
import { CoreModule } from '../core/core.module';
import { FanoutModule } from '../fanout/fanout.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ModerationModule } from '../moderation/moderation.module';
import { PresenceModule } from '../presence/presence.module';
import { PrivacyModule } from '../privacy/privacy.module';
import { StreamModule } from '../stream/stream.module';
import { TransportModule } from '../ws/transport.module';

/**
 * The HTTP side: the controllers of the routes the options enable (health, metrics, the server API and the
 * dashboard's, the pages, the AsyncAPI document, dev tokens, `GET /ws`'s handshake check; chosen in http-routes.ts),
 * and what they inject.
 */
@Module({})
export class HttpSurfacesModule {
  static register(controllers: Type[]): DynamicModule {
    return {
      module: HttpSurfacesModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        ChatModule,
        ChannelsModule,
        PresenceModule,
        PrivacyModule,
        FanoutModule,
        LifecycleModule,
        CoreModule,
        MetricsModule,
        TransportModule,
        ModerationModule,
        StreamModule,
      ],
      controllers,
    };
  }
}
