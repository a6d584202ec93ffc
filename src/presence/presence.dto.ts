import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, Length } from 'class-validator';
import { IsName } from '../protocol/names';
import { NoControlChars } from '../protocol/validators';
import { PRESENCE_STATUSES, type PresenceStatus } from './store/presence-store';

export class PresenceListDto {
  @IsName() room!: string;
}

export class PresenceStatusDto {
  @IsIn(PRESENCE_STATUSES) status!: PresenceStatus;
}

export class PresenceQueryDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  @NoControlChars()
  userIds!: string[];
}
