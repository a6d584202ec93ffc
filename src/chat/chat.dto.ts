import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { IsName } from '../protocol/names';
import { IsSafeInt, NoControlChars } from '../protocol/validators';

export class JoinDto {
  @IsName() room!: string;
  @IsOptional() @IsSafeInt(0) since?: number;
}

export class RoomDto {
  @IsName() room!: string;
}

export class SendDto {
  @IsName() room!: string;
  @IsString() @Length(1, 4000) @NoControlChars() text!: string;
  @IsOptional() @IsString() @Length(1, 128) @NoControlChars() clientMsgId?: string;
  @IsOptional() @IsSafeInt(1) replyTo?: number;
}

export class HistoryDto {
  @IsName() room!: string;
  @IsOptional() @IsSafeInt(0) before?: number;
  @IsOptional() @IsSafeInt(0) after?: number;
  @IsOptional() @IsSafeInt(1, 100) limit?: number;
}

export class TypingDto {
  @IsName() room!: string;
  @IsBoolean() typing!: boolean;
}

export class DmDto {
  @IsString() @Length(1, 128) @NoControlChars() to!: string;
  @IsString() @Length(1, 4000) @NoControlChars() text!: string;
  @IsOptional() @IsString() @Length(1, 128) @NoControlChars() clientMsgId?: string;
}

export class ReadDto {
  @IsName() room!: string;
  @IsSafeInt(0) seq!: number;
}
