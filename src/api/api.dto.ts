import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsChannelName, IsName, IsPresent } from '../protocol/names';

/** The OpenAPI shape of a room or channel name (the same rule as IsName). */
const NAME = { pattern: '^[A-Za-z0-9_.:-]{1,128}$', minLength: 1, maxLength: 128 } as const;
/** Any JSON value, `null` included. */
const ANY_JSON = {
  oneOf: [
    { type: 'object' },
    { type: 'array', items: {} },
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
  ],
  nullable: true,
};
import { IsSafeInt, IsUserId, NoControlChars } from '../protocol/validators';

export class ChannelParams {
  @ApiProperty({ ...NAME, description: 'Channel name', example: 'news' })
  @IsChannelName()
  channel!: string;
}

export class RoomParams {
  @ApiProperty({ ...NAME, description: 'Room name', example: 'lobby' })
  @IsName()
  room!: string;
}

export class UserParams {
  @ApiProperty({ minLength: 1, maxLength: 128, description: 'User id (`sub` of the tokens)' })
  @IsString()
  @Length(1, 128)
  @IsUserId()
  userId!: string;
}

export class PublishBody {
  @ApiProperty({ ...ANY_JSON, description: 'Any JSON value, delivered as the publication data' })
  @IsPresent()
  data!: unknown;
}

export class PostMessageBody {
  @ApiProperty({ minLength: 1, maxLength: 128, description: 'Author of the message' })
  @IsString()
  @Length(1, 128)
  @IsUserId()
  userId!: string;
  @ApiProperty({ minLength: 1, maxLength: 4000 })
  @IsString()
  @Length(1, 4000)
  @NoControlChars()
  text!: string;
}

/** Query strings carry text: only plain digits become a number; anything else (`""`, `1e3`, ` 1`) stays and fails. */
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;

export class HistoryQueryParams {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Newest messages below this seq',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(0)
  before?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Oldest messages above this seq',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(0)
  after?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Transform(toNumber)
  @IsSafeInt(1, 100)
  limit?: number;
}

export class BroadcastBody {
  @ApiProperty({
    ...ANY_JSON,
    description: 'Any JSON value, pushed as `broadcast {data, from: "server"}`',
  })
  @IsPresent()
  data!: unknown;
}
