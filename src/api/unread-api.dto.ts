import { ApiProperty } from '@nestjs/swagger';

/** One room of `GET /api/users/:userId/unread` (the shape of RoomUnread, for the OpenAPI document). */
export class RoomUnreadSchema {
  @ApiProperty() room!: string;
  @ApiProperty({ type: 'integer', description: "The room's last seq" }) seq!: number;
  @ApiProperty({ type: 'integer', description: "The user's read marker (0: none)" })
  lastRead!: number;
  @ApiProperty({
    type: 'integer',
    maximum: 1000,
    description: "Other users' messages above lastRead, not deleted (at most 1000)",
  })
  unread!: number;
  @ApiProperty({
    type: 'integer',
    maximum: 1000,
    description: 'Those of them that mention the user',
  })
  mentions!: number;
}

export class UnreadResponse {
  @ApiProperty({
    type: [RoomUnreadSchema],
    description:
      'Every room where the user has a read marker, and their dm: rooms, newest activity first, at most 200',
  })
  rooms!: RoomUnreadSchema[];
}
