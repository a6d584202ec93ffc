import { IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { IsChannelName, IsPresent } from '../protocol/names';
import { IsSafeInt } from '../protocol/validators';

export class SubscribeDto {
  @IsChannelName() channel!: string;
  @IsOptional() @IsSafeInt(0) since?: number;
  /** Required with `since`: the epoch the client's offset belongs to. */
  @ValidateIf((o: SubscribeDto) => o.since !== undefined || o.epoch !== undefined)
  @IsString({ message: 'epoch must be a string, the epoch that since belongs to' })
  @IsNotEmpty()
  @MaxLength(128)
  epoch?: string;
  /** A subscription token granting this channel. */
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(8192) token?: string;
}

export class ChannelDto {
  @IsChannelName() channel!: string;
}

export class PublishDto {
  @IsChannelName() channel!: string;
  @IsPresent() data!: unknown;
}

export class ChannelRefreshDto {
  @IsChannelName() channel!: string;
  /** A newer subscription token for this channel. */
  @IsString() @IsNotEmpty() @MaxLength(8192) token!: string;
}
