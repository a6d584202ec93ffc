import { IsInt, IsOptional, Min } from 'class-validator';
import { IsName, IsPresent } from '../protocol/names';

export class SubscribeDto {
  @IsName() channel!: string;
  @IsOptional() @IsInt() @Min(0) since?: number;
}

export class ChannelDto {
  @IsName() channel!: string;
}

export class PublishDto {
  @IsName() channel!: string;
  @IsPresent() data!: unknown;
}
