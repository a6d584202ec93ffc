import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsChannelName, IsName, IsPresent } from '../protocol/names';

export class ChannelParams {
  @IsChannelName() channel!: string;
}

export class RoomParams {
  @IsName() room!: string;
}

export class UserParams {
  @IsString() @Length(1, 128) userId!: string;
}

export class PublishBody {
  @IsPresent() data!: unknown;
}

export class PostMessageBody {
  @IsString() @Length(1, 128) userId!: string;
  @IsString() @Length(1, 4000) text!: string;
}

export class HistoryQueryParams {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) before?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) after?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100) limit?: number;
}

export class BroadcastBody {
  @IsPresent() data!: unknown;
}
