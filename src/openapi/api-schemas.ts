import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * Response shapes of the server API, for the OpenAPI document only (the services return plain objects of these
 * shapes; see StoredMessage, Member, ServerStats).
 */
export class MessageSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() room!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: '1, 2, 3 … per room, no gaps' })
  seq!: number;
  @ApiProperty() userId!: string;
  @ApiPropertyOptional() name?: string;
  @ApiProperty() text!: string;
  @ApiProperty({ type: 'integer', description: 'ms since epoch' }) ts!: number;
  @ApiPropertyOptional() clientMsgId?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'seq this message answers' })
  replyTo?: number;
  @ApiPropertyOptional({ type: [String], description: 'Mentioned user ids' }) mentions?: string[];
  @ApiPropertyOptional({ type: 'integer', description: 'ms since epoch of the last edit' })
  editedAt?: number;
  @ApiPropertyOptional({ enum: [true], description: 'A tombstone (text "")' }) deleted?: true;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Users per reaction',
  })
  reactions?: Record<string, number>;
}

export class MemberSchema {
  @ApiProperty() userId!: string;
  @ApiPropertyOptional() name?: string;
  @ApiProperty({ enum: ['online', 'away', 'busy'] }) status!: string;
  @ApiProperty({ type: 'integer', minimum: 1 }) connections!: number;
  @ApiProperty({ type: 'integer', description: 'ms since epoch' }) since!: number;
}

export class OffsetResponse {
  @ApiProperty({ type: 'integer', description: 'Offset of the publication in its channel' })
  offset!: number;
}

export class MessageResponse {
  @ApiProperty({ type: MessageSchema }) message!: MessageSchema;
}

export class MessagesResponse {
  @ApiProperty({ type: [MessageSchema], description: 'Ascending seq' }) messages!: MessageSchema[];
}

export class SearchResponse {
  @ApiProperty({ type: [MessageSchema], description: 'Newest first' }) messages!: MessageSchema[];
  @ApiProperty({ description: 'More matches past `limit`' }) more!: boolean;
}

export class MembersResponse {
  @ApiProperty({ type: [MemberSchema] }) members!: MemberSchema[];
}

export class StatsResponse {
  @ApiProperty({ type: 'integer', description: 'Open connections, cluster-wide' })
  connections!: number;
  @ApiProperty({ type: 'integer', description: 'Rooms with someone in them' }) rooms!: number;
  @ApiProperty({ type: 'integer', description: 'Channels with subscribers on this instance' })
  channels!: number;
  @ApiProperty({ type: 'integer' }) uptimeSec!: number;
  @ApiProperty() node!: string;
}

export class EmptyResponse {}

/** NestJS's error body (400 carries the field messages of the ValidationPipe in `message`). */
export class HttpErrorResponse {
  @ApiProperty({ type: 'integer' }) statusCode!: number;
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  message!: string | string[];
  @ApiPropertyOptional() error?: string;
}
