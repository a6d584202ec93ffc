import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { IsName } from '../protocol/names';
import { IsFutureUntil, MAX_RETENTION_DAYS, MAX_SLOW_MODE_MS } from '../moderation/moderation.dto';
import { IsSafeInt, IsUserId, NoControlChars } from '../protocol/validators';
import { ROOM_ROLES, type RoomRole } from '../store/moderation-store';

const USER_ID = { minLength: 1, maxLength: 128, description: 'User id (`sub` of the tokens)' };
const UNTIL = {
  type: 'integer' as const,
  description: 'ms since epoch, in the future and before the year 3000; absent: for good',
};
const REASON = { minLength: 1, maxLength: 500, description: 'Why (kept in the audit log)' };

/** `null` clears a setting; absent leaves it as it is. `slowModeMs: 0` turns slow mode off. */
export class SettingsBody {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_RETENTION_DAYS,
    nullable: true,
    description:
      "Days a message is kept in this room (overrides RETENTION_DAYS); null: the server's default",
  })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsSafeInt(1, MAX_RETENTION_DAYS)
  retentionDays?: number | null;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_SLOW_MODE_MS,
    nullable: true,
    description: 'One message per member per this many ms; 0 or null: off',
  })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsSafeInt(0, MAX_SLOW_MODE_MS)
  slowModeMs?: number | null;
}

export class RoleBody {
  @ApiProperty({ enum: ROOM_ROLES }) @IsIn(ROOM_ROLES) role!: RoomRole;
}

export class BanBody {
  @ApiProperty(USER_ID) @IsString() @Length(1, 128) @IsUserId() userId!: string;
  @ApiPropertyOptional(UNTIL) @IsOptional() @IsFutureUntil() until?: number;
  @ApiPropertyOptional(REASON)
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @NoControlChars()
  reason?: string;
}

export class MuteBody {
  @ApiProperty(USER_ID) @IsString() @Length(1, 128) @IsUserId() userId!: string;
  @ApiPropertyOptional(UNTIL) @IsOptional() @IsFutureUntil() until?: number;
}

const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;

export class AuditQueryParams {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Entries older than this ts (the `next` of the previous page)',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(0)
  before?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(1, 100)
  limit?: number;
}

export class RoomUserParams {
  @ApiProperty({
    pattern: '^[A-Za-z0-9_.:-]{1,128}$',
    minLength: 1,
    maxLength: 128,
    description: 'Room name',
  })
  @IsName()
  room!: string;
  @ApiProperty(USER_ID) @IsString() @Length(1, 128) @IsUserId() userId!: string;
}
