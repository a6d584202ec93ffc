import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module';
import { ChatModule } from '../chat/chat.module';
import { FanoutModule } from '../fanout/fanout.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { AccessRecheck } from './access-recheck';
import { CoreGateway } from './core.gateway';
import { StatsService } from './stats.service';

/** The `server.*` and `auth.*` events: stats, broadcast, token refresh (and the access re-check after it). */
@Module({
  imports: [ChatModule, ChannelsModule, FanoutModule, LifecycleModule],
  providers: [CoreGateway, StatsService, AccessRecheck],
  exports: [StatsService],
})
export class CoreModule {}
