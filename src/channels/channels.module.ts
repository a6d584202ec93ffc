import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { channelProviders } from './channel.providers';
import { ChannelsGateway } from './channels.gateway';
import { ChannelsService } from './channels.service';
import { ServerSubscriptions } from './server-subscriptions';

/** Pub/sub channels with a recovery window, and server-side subscriptions. */
@Module({
  imports: [TransportModule, FanoutModule, AccessModule],
  providers: [ChannelsService, ChannelsGateway, ...channelProviders],
  exports: [ChannelsService, ServerSubscriptions],
})
export class ChannelsModule {}
