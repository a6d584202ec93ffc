import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsName } from '../protocol/names';
import { IsSafeInt, NoControlChars } from '../protocol/validators';

/** Query strings and paths carry text: only plain digits become a number; anything else stays and fails. */
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;

export class MessageParams {
  @ApiProperty({ pattern: '^[A-Za-z0-9_.:-]{1,128}$', description: 'Room name', example: 'lobby' })
  @IsName()
  room!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'seq of the message' })
  @Transform(toNumber)
  @IsSafeInt(1)
  seq!: number;
}

export class EditMessageBody {
  @ApiProperty({ minLength: 1, maxLength: 4000, description: 'The new text' })
  @IsString()
  @Length(1, 4000)
  @NoControlChars()
  text!: string;
}

export class SearchQueryParams {
  @ApiProperty({
    minLength: 1,
    maxLength: 256,
    description: 'Words (runs of letters and digits, any case): messages holding every one',
  })
  @IsString()
  @Length(1, 256)
  @NoControlChars()
  q!: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Only messages below this seq' })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(1)
  before?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 50, default: 20 })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(1, 50)
  limit?: number;
}
