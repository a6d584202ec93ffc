import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { IsPresent } from '../protocol/names';

export class ChannelUserBody {
  @IsString() @Length(1, 128) userId!: string;
}

export class UserMessageBody {
  @IsPresent() data!: unknown;
}

export class ChannelListQueryParams {
  @IsOptional() @IsString() @MaxLength(128) prefix?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsString() @MaxLength(128) cursor?: string;
}
