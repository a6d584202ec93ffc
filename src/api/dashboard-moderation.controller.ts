import { Body, Controller, Get, HttpCode, Param, Post, UseGuards, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
} from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { IsString, Length } from 'class-validator';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { ModerationService } from '../moderation/moderation.service';
import { IsUserId } from '../protocol/validators';
import { MessageStore } from '../store/message-store';
import { ModerationStore, type RoomSettings } from '../store/moderation-store';
import { ApiKeyGuard } from './api-key.guard';
import { RoomParams } from './api.dto';

/** The audit entries read to find the bans and mutes in force: the dashboard lists the users these acted on. */
export const RESTRICTION_SCAN = 1000;
/** At most this many of those users are looked up (and listed). */
export const MAX_LISTED = 200;
const PAGE = 100;

export class KickBody {
  @ApiProperty({ minLength: 1, maxLength: 128, description: 'User id (`sub` of the tokens)' })
  @IsString()
  @Length(1, 128)
  @IsUserId()
  userId!: string;
}

class RestrictionSchema {
  @ApiProperty() userId!: string;
  @ApiPropertyOptional({ type: 'integer', description: 'ms since epoch; absent: for good' })
  until?: number;
  @ApiPropertyOptional() reason?: string;
}

class SettingsSchema {
  @ApiPropertyOptional({ type: 'integer' }) retentionDays?: number;
  @ApiPropertyOptional({ type: 'integer' }) slowModeMs?: number;
}

class RoomModerationResponse {
  @ApiProperty() room!: string;
  @ApiProperty({ type: [String] }) owners!: string[];
  @ApiProperty({ type: [String] }) moderators!: string[];
  @ApiProperty({ type: SettingsSchema }) settings!: SettingsSchema;
  @ApiProperty({ type: 'integer', description: 'The oldest seq still stored' }) firstSeq!: number;
  @ApiProperty({ type: [RestrictionSchema] }) bans!: RestrictionSchema[];
  @ApiProperty({ type: [RestrictionSchema] }) mutes!: RestrictionSchema[];
}

export interface Restriction {
  userId: string;
  until?: number;
  reason?: string;
}

export interface RoomModeration {
  room: string;
  owners: string[];
  moderators: string[];
  settings: RoomSettings;
  firstSeq: number;
  bans: Restriction[];
  mutes: Restriction[];
}

/**
 * Server API routes behind the dashboard's room view (beside contract section 7's moderation routes): a room's
 * roles, settings, and the bans and mutes in force, in one read; and a kick, which the socket has (`room.kick`) and
 * the contract's routes do not.
 */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class DashboardModerationController {
  constructor(
    private readonly moderation: ModerationService,
    private readonly store: ModerationStore,
    private readonly messages: MessageStore,
  ) {}

  /**
   * Bans and mutes are stored per (room, user) with no listing of their own: the users the newest
   * RESTRICTION_SCAN audit entries banned or muted are looked up in the store (which holds what is in force), so
   * an older ban whose entry is further back is not listed (the audit log pages to it).
   */
  @Get('rooms/:room/moderation')
  @ApiOperation({
    summary: "A room's roles, settings, and the bans and mutes in force (dashboard)",
  })
  @ApiOkResponse({ type: RoomModerationResponse })
  @ApiBadRequestResponse({ description: 'Invalid room name' })
  async room(@Param() { room }: RoomParams): Promise<RoomModeration> {
    const [staff, settings, firstSeq, candidates] = await Promise.all([
      this.store.staff(room),
      this.store.settings(room),
      this.messages.firstSeq(room),
      this.restrictedUsers(room),
    ]);
    const now = Date.now();
    const inForce = (r?: { until?: number }): boolean =>
      r !== undefined && (r.until === undefined || r.until > now);
    const bans: Restriction[] = [];
    const mutes: Restriction[] = [];
    for (const userId of candidates) {
      const { ban, mute } = await this.store.standing(room, userId);
      if (ban && inForce(ban)) bans.push({ userId, ...ban });
      if (mute && inForce(mute)) mutes.push({ userId, until: mute.until });
    }
    return { room, ...staff, settings, firstSeq, bans, mutes };
  }

  @Post('rooms/:room/kicks')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Kick a user out of a room on every instance (push chat.left {reason: "kicked"})',
  })
  @ApiNoContentResponse({ description: 'Recorded; they may join again' })
  @ApiBadRequestResponse({ description: 'Invalid room name or body' })
  async kick(@Param() { room }: RoomParams, @Body() { userId }: KickBody): Promise<void> {
    await this.moderation.kick(undefined, room, userId);
  }

  /** Users with a ban or mute entry among the newest RESTRICTION_SCAN audit entries, newest first. */
  private async restrictedUsers(room: string): Promise<string[]> {
    const users = new Set<string>();
    let before: number | undefined;
    for (let read = 0; read < RESTRICTION_SCAN; read += PAGE) {
      const { entries, next } = await this.moderation.audit(room, before, PAGE);
      for (const e of entries) if (e.action === 'ban' || e.action === 'mute') users.add(e.userId);
      if (next === undefined || users.size >= MAX_LISTED) break;
      before = next;
    }
    return [...users].slice(0, MAX_LISTED);
  }
}
