import {
  IsIn,
  IsOptional,
  IsString,
  Length,
  ValidateBy,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';
import { IsName } from '../protocol/names';
import { IsSafeInt, IsUserId, NoControlChars } from '../protocol/validators';
import { ROOM_ROLES, type RoomRole } from '../store/moderation-store';

/** The first instant of the year 3000 (UTC): `until` must be before it. */
export const YEAR_3000 = Date.UTC(3000, 0, 1);
/** Longest `retentionDays` (100 years) and `slowModeMs` (one day). */
export const MAX_RETENTION_DAYS = 36_500;
export const MAX_SLOW_MODE_MS = 86_400_000;

/** `until`: an integer ms since epoch, in the future (at validation time) and before the year 3000. */
export const IsFutureUntil = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isFutureUntil',
      validator: {
        validate: (value) =>
          typeof value === 'number' &&
          Number.isSafeInteger(value) &&
          value > Date.now() &&
          value < YEAR_3000,
        defaultMessage: (args) =>
          `${args?.property ?? 'until'} must be an integer time (ms since epoch) in the future and before the year 3000`,
      },
    },
    options,
  );

export class RoomTargetDto {
  @IsName() room!: string;
  @IsString() @IsUserId() userId!: string;
}

export class RoleDto extends RoomTargetDto {
  @IsIn(ROOM_ROLES) role!: RoomRole;
}

export class BanDto extends RoomTargetDto {
  @IsOptional() @IsFutureUntil() until?: number;
  @IsOptional() @IsString() @Length(1, 500) @NoControlChars() reason?: string;
}

export class MuteDto extends RoomTargetDto {
  @IsOptional() @IsFutureUntil() until?: number;
}

/** `null` clears a setting; absent leaves it as it is. `slowModeMs: 0` turns slow mode off. */
export class SettingsDto {
  @IsName() room!: string;
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsSafeInt(1, MAX_RETENTION_DAYS)
  retentionDays?: number | null;
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsSafeInt(0, MAX_SLOW_MODE_MS)
  slowModeMs?: number | null;
}
