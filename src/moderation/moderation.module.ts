import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ChatModule } from '../chat/chat.module';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { ModerationEnforcer } from './moderation-enforcer';
import { ModerationGateway } from './moderation.gateway';
import { ModerationService } from './moderation.service';
import { RoleDataPart } from './role-data.part';
import { RoomRetentionSettings } from './room-retention-settings';

/**
 * Room moderation: roles, kick, ban, mute, settings, audit (the `room.*` events and the service the server API
 * uses). RoleDataPart is the `roles` part of a person's data (export and erasure): the privacy module lists it
 * among USER_DATA_PARTS. RoomRetentionSettings answers the retention sweep with a room's own `retentionDays`.
 */
@Module({
  imports: [AccessModule, ChatModule, FanoutModule, TransportModule],
  providers: [
    ModerationService,
    ModerationGateway,
    ModerationEnforcer,
    RoleDataPart,
    RoomRetentionSettings,
  ],
  exports: [ModerationService, RoleDataPart, RoomRetentionSettings],
})
export class ModerationModule {}
