import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { RoomDto } from '../chat/chat.dto';
import type { RoomSettings } from '../store/moderation-store';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import { BanDto, MuteDto, RoleDto, RoomTargetDto, SettingsDto } from './moderation.dto';
import { ModerationService, type RoomInfo } from './moderation.service';

/** The `room.*` events: a room's roles and rules, and the moderation actions of its owners and moderators. */
@HubbubGateway()
export class ModerationGateway {
  constructor(private readonly moderation: ModerationService) {}

  @SubscribeMessage('room.info')
  info(@Conn() conn: Connection, @MessageBody() { room }: RoomDto): Promise<RoomInfo> {
    return this.moderation.info(conn.principal, room);
  }

  @SubscribeMessage('room.role')
  async role(
    @Conn() conn: Connection,
    @MessageBody() { room, userId, role }: RoleDto,
  ): Promise<object> {
    await this.moderation.setRole(conn.principal, room, userId, role);
    return {};
  }

  @SubscribeMessage('room.kick')
  async kick(
    @Conn() conn: Connection,
    @MessageBody() { room, userId }: RoomTargetDto,
  ): Promise<object> {
    await this.moderation.kick(conn.principal, room, userId);
    return {};
  }

  @SubscribeMessage('room.ban')
  async ban(
    @Conn() conn: Connection,
    @MessageBody() { room, userId, until, reason }: BanDto,
  ): Promise<object> {
    await this.moderation.ban(conn.principal, room, userId, until, reason);
    return {};
  }

  @SubscribeMessage('room.unban')
  async unban(
    @Conn() conn: Connection,
    @MessageBody() { room, userId }: RoomTargetDto,
  ): Promise<object> {
    await this.moderation.unban(conn.principal, room, userId);
    return {};
  }

  @SubscribeMessage('room.mute')
  async mute(
    @Conn() conn: Connection,
    @MessageBody() { room, userId, until }: MuteDto,
  ): Promise<object> {
    await this.moderation.mute(conn.principal, room, userId, until);
    return {};
  }

  @SubscribeMessage('room.unmute')
  async unmute(
    @Conn() conn: Connection,
    @MessageBody() { room, userId }: RoomTargetDto,
  ): Promise<object> {
    await this.moderation.unmute(conn.principal, room, userId);
    return {};
  }

  @SubscribeMessage('room.settings')
  async settings(
    @Conn() conn: Connection,
    @MessageBody() { room, retentionDays, slowModeMs }: SettingsDto,
  ): Promise<{ settings: RoomSettings }> {
    return {
      settings: await this.moderation.settings(conn.principal, room, { retentionDays, slowModeMs }),
    };
  }
}
