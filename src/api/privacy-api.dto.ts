import { ApiProperty } from '@nestjs/swagger';

/** The export document (OpenAPI only): a key per part of the person's data, each a list of records. */
export class UserExportResponse {
  @ApiProperty() userId!: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description:
      'Every message of the user, in (room, seq) order: `{id, room, seq, userId, name?, text, ts, …}`',
  })
  messages!: object[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Read markers `{room, seq}`',
  })
  readMarkers!: object[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Reactions given `{room, seq, reaction}`',
  })
  reactions!: object[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Room roles `{room, role}`',
  })
  roles!: object[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Where the user is present now `{room, status, connections, since}`',
  })
  presence!: object[];
}
