import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsName, IsPresent } from '../protocol/names';
import { IsSafeInt, IsUserId, NoControlChars } from '../protocol/validators';

export class ChannelParams {
  @IsName() channel!: string;
}

export class RoomParams {
  @IsName() room!: string;
}

export class UserParams {
  @IsString() @Length(1, 128) @IsUserId() userId!: string;
}

export class PublishBody {
  @IsPresent() data!: unknown;
}

export class PostMessageBody {
  @IsString() @Length(1, 128) @IsUserId() userId!: string;
  @IsString() @Length(1, 4000) @NoControlChars() text!: string;
}

/** Query strings carry text: only plain digits become a number; anything else (`""`, `1e3`, ` 1`) stays and fails. */
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;

export class HistoryQueryParams {
  @IsOptional() @Transform(toNumber) @IsSafeInt(0) before?: number;
  @IsOptional() @Transform(toNumber) @IsSafeInt(0) after?: number;
  @IsOptional() @Transform(toNumber) @IsSafeInt(1, 100) limit?: number;
}

export class BroadcastBody {
  @IsPresent() data!: unknown;
}
