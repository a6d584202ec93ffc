import { IsBoolean, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsName } from '../protocol/names';

export class JoinDto {
  @IsName() room!: string;
  @IsOptional() @IsInt() @Min(0) since?: number;
}

export class RoomDto {
  @IsName() room!: string;
}

export class SendDto {
  @IsName() room!: string;
  @IsString() @Length(1, 4000) text!: string;
  @IsOptional() @IsString() @Length(1, 128) clientMsgId?: string;
}

export class HistoryDto {
  @IsName() room!: string;
  @IsOptional() @IsInt() @Min(0) before?: number;
  @IsOptional() @IsInt() @Min(0) after?: number;
  @IsOptional() @IsInt() @Min(1) @Max(100) limit?: number;
}

export class TypingDto {
  @IsName() room!: string;
  @IsBoolean() typing!: boolean;
}

export class DmDto {
  @IsString() @Length(1, 128) to!: string;
  @IsString() @Length(1, 4000) text!: string;
  @IsOptional() @IsString() @Length(1, 128) clientMsgId?: string;
}

export class ReadDto {
  @IsName() room!: string;
  @IsInt() @Min(0) seq!: number;
}
