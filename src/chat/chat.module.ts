import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { FanoutModule } from '../fanout/fanout.module';
import { PresenceModule } from '../presence/presence.module';
import { RoomService } from '../rooms/room.service';
import { ChatEditsGateway } from './chat-edits.gateway';
import { ChatEditsService } from './chat-edits.service';
import { ChatGateway } from './chat.gateway';
import { ChatService } from './chat.service';
import { MentionDelivery } from './mention-delivery';
import { MessageExtras } from './message-extras';
import { ReadMarkerWriter } from './read-marker-writer';
import { ReadMarkersUserData } from './read-markers-user-data';
import { UnreadGateway } from './unread.gateway';
import { UnreadService } from './unread.service';
import { TransportModule } from '../ws/transport.module';

/** Chat rooms with durable history. */
@Module({
  imports: [FanoutModule, PresenceModule, AccessModule, TransportModule],
  providers: [
    RoomService,
    ChatService,
    ChatGateway,
    MessageExtras,
    ChatEditsService,
    ChatEditsGateway,
    UnreadService,
    UnreadGateway,
    MentionDelivery,
    ReadMarkersUserData,
    ReadMarkerWriter,
  ],
  exports: [RoomService, ChatService, ChatEditsService, UnreadService, ReadMarkersUserData],
})
export class ChatModule {}
