import { IsNotEmpty, IsString } from 'class-validator';
import { IsPresent } from '../protocol/names';

export class RefreshDto {
  @IsString() @IsNotEmpty() token!: string;
}

export class BroadcastDto {
  @IsPresent() data!: unknown;
}
