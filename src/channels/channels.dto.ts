import { IsOptional } from 'class-validator';
import { IsName, IsPresent } from '../protocol/names';
import { IsSafeInt } from '../protocol/validators';

export class SubscribeDto {
  @IsName() channel!: string;
  @IsOptional() @IsSafeInt(0) since?: number;
}

export class ChannelDto {
  @IsName() channel!: string;
}

export class PublishDto {
  @IsName() channel!: string;
  @IsPresent() data!: unknown;
}
