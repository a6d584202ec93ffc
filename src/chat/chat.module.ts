import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { FanoutModule } from '../fanout/fanout.module';
import { PresenceModule } from '../presence/presence.module';
import { RoomService } from '../rooms/room.service';
import { ChatGateway } from './chat.gateway';
import { ChatService } from './chat.service';

/** Chat rooms with durable history. */
@Module({
  imports: [FanoutModule, PresenceModule, AccessModule],
  providers: [RoomService, ChatService, ChatGateway],
  exports: [RoomService, ChatService],
})
export class ChatModule {}
