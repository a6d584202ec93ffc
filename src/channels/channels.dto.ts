import { IsDefined, IsInt, IsOptional, Min } from 'class-validator';
import { IsName } from '../protocol/names';

export class SubscribeDto {
  @IsName() channel!: string;
  @IsOptional() @IsInt() @Min(0) since?: number;
}

export class ChannelDto {
  @IsName() channel!: string;
}

export class PublishDto {
  @IsName() channel!: string;
  @IsDefined() data!: unknown;
}
