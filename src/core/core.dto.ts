import { IsNotEmpty, IsString } from 'class-validator';
import { IsPresent } from '../protocol/names';
import { NoControlChars } from '../protocol/validators';

export class RefreshDto {
  @IsString() @IsNotEmpty() @NoControlChars() token!: string;
}

export class BroadcastDto {
  @IsPresent() data!: unknown;
}
