import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { FanoutModule } from '../fanout/fanout.module';
import { PresenceModule } from '../presence/presence.module';
import { RoomService } from '../rooms/room.service';
import { ChatEditsGateway } from './chat-edits.gateway';
import { ChatEditsService } from './chat-edits.service';
import { ChatGateway } from './chat.gateway';
import { ChatService } from './chat.service';
import { MessageExtras } from './message-extras';

/** Chat rooms with durable history. */
@Module({
  imports: [FanoutModule, PresenceModule, AccessModule],
  providers: [
    RoomService,
    ChatService,
    ChatGateway,
    MessageExtras,
    ChatEditsService,
    ChatEditsGateway,
  ],
  exports: [RoomService, ChatService, ChatEditsService],
})
export class ChatModule {}
