import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
} from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { ModerationService } from '../moderation/moderation.service';
import type { AuditEntry, RoomSettings } from '../store/moderation-store';
import { MODERATION_ACTIONS, ROOM_ROLES } from '../store/moderation-store';
import { ApiKeyGuard } from './api-key.guard';
import { RoomParams } from './api.dto';
import {
  AuditQueryParams,
  BanBody,
  MuteBody,
  RoleBody,
  RoomUserParams,
  SettingsBody,
} from './moderation-api.dto';

class SettingsSchema {
  @ApiPropertyOptional({ type: 'integer', minimum: 1 }) retentionDays?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 1 }) slowModeMs?: number;
}

class SettingsResponse {
  @ApiProperty({ type: SettingsSchema }) settings!: SettingsSchema;
}

class AuditEntrySchema {
  @ApiProperty({ type: 'integer', description: 'ms since epoch; unique and increasing per room' })
  ts!: number;
  @ApiProperty({ enum: MODERATION_ACTIONS }) action!: string;
  @ApiProperty({ description: 'The user acted on (settings: the actor)' }) userId!: string;
  @ApiProperty({ description: 'The acting user, or `server`' }) by!: string;
  @ApiPropertyOptional({ type: 'integer' }) until?: number;
  @ApiPropertyOptional() reason?: string;
  @ApiPropertyOptional({ enum: ROOM_ROLES, description: 'role actions: the role given' })
  role?: string;
  @ApiPropertyOptional({
    type: SettingsSchema,
    description: 'settings actions: the settings after',
  })
  settings?: SettingsSchema;
}

class AuditResponse {
  @ApiProperty({ type: [AuditEntrySchema] }) entries!: AuditEntrySchema[];
  @ApiPropertyOptional({
    type: 'integer',
    description: '`before` of the next page, when there is one',
  })
  next?: number;
}

const INVALID = ApiBadRequestResponse({ description: 'Invalid parameters or body (field errors)' });

/**
 * The server API's room moderation: roles, bans, mutes, settings and the audit log. The server acts with every
 * right (`by: "server"` in the audit log and the `room.moderated` webhook); the effects are those of the socket
 * events (a ban takes the user out of the room on every instance, a role is pushed as `room.role`).
 */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class ModerationApiController {
  constructor(private readonly moderation: ModerationService) {}

  @Put('rooms/:room/roles/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: "Set a user's role in a room (pushed as room.role)" })
  @ApiNoContentResponse({ description: 'Recorded' })
  @INVALID
  async role(@Param() { room, userId }: RoomUserParams, @Body() { role }: RoleBody): Promise<void> {
    await this.moderation.setRole(undefined, room, userId, role);
  }

  @Post('rooms/:room/bans')
  @HttpCode(204)
  @ApiOperation({ summary: 'Ban a user from a room, until `until` or for good' })
  @ApiNoContentResponse({ description: 'Recorded; the user left the room on every instance' })
  @INVALID
  async ban(@Param() { room }: RoomParams, @Body() body: BanBody): Promise<void> {
    await this.moderation.ban(undefined, room, body.userId, body.until, body.reason);
  }

  @Delete('rooms/:room/bans/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Lift a ban' })
  @ApiNoContentResponse({ description: 'Recorded' })
  @INVALID
  async unban(@Param() { room, userId }: RoomUserParams): Promise<void> {
    await this.moderation.unban(undefined, room, userId);
  }

  @Post('rooms/:room/mutes')
  @HttpCode(204)
  @ApiOperation({ summary: 'Mute a user in a room (no sends, edits, reactions) until `until`' })
  @ApiNoContentResponse({ description: 'Recorded' })
  @INVALID
  async mute(@Param() { room }: RoomParams, @Body() body: MuteBody): Promise<void> {
    await this.moderation.mute(undefined, room, body.userId, body.until);
  }

  @Delete('rooms/:room/mutes/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Lift a mute' })
  @ApiNoContentResponse({ description: 'Recorded' })
  @INVALID
  async unmute(@Param() { room, userId }: RoomUserParams): Promise<void> {
    await this.moderation.unmute(undefined, room, userId);
  }

  @Put('rooms/:room/settings')
  @HttpCode(200)
  @ApiOperation({ summary: "Change a room's settings (null clears one; slowModeMs 0: off)" })
  @ApiOkResponse({ type: SettingsResponse, description: 'The settings after the change' })
  @INVALID
  async settings(
    @Param() { room }: RoomParams,
    @Body() body: SettingsBody,
  ): Promise<{ settings: RoomSettings }> {
    return {
      settings: await this.moderation.settings(undefined, room, {
        retentionDays: body.retentionDays,
        slowModeMs: body.slowModeMs,
      }),
    };
  }

  @Get('rooms/:room/audit')
  @ApiOperation({ summary: "A room's moderation log, newest first" })
  @ApiOkResponse({ type: AuditResponse })
  @INVALID
  audit(
    @Param() { room }: RoomParams,
    @Query() q: AuditQueryParams,
  ): Promise<{ entries: AuditEntry[]; next?: number }> {
    return this.moderation.audit(room, q.before, q.limit);
  }
}
