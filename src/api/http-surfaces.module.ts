import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ChannelsApiController } from './channels-api.controller';
import { ApiController } from './api.controller';
import { DashboardApiController } from './dashboard-api.controller';
import { ChannelsModule } from '../channels/channels.module';
import { ChatModule } from '../chat/chat.module';
import { CoreModule } from '../core/core.module';
import { DevTokenController } from '../dev/dev-token.controller';
import { AsyncApiController } from '../docs/asyncapi.controller';
import { FanoutModule } from '../fanout/fanout.module';
import { HealthController } from '../health/health.controller';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { PresenceModule } from '../presence/presence.module';
import { AdminPageController } from '../web/admin-page.controller';
import { WebController } from '../web/web.controller';

/** The HTTP side: health, the server API, the dashboard's API, dev tokens, the pages, the AsyncAPI document. */
@Module({
  imports: [
    TerminusModule,
    ChatModule,
    ChannelsModule,
    PresenceModule,
    FanoutModule,
    LifecycleModule,
    CoreModule,
  ],
  controllers: [
    HealthController,
    DevTokenController,
    ApiController,
    DashboardApiController,
    ChannelsApiController,
    WebController,
    AdminPageController,
    AsyncApiController,
  ],
})
export class HttpSurfacesModule {}
