/**
 * The AsyncAPI schemas of room moderation (`room.*` requests and the `room.role` push), merged into REQUESTS and
 * PUSHES by asyncapi-schemas.ts. Beside it, not in it: that file is near the size limit.
 */
type Schema = Record<string, unknown>;

const ROOM: Schema = { $ref: '#/components/schemas/RoomName' };
const USER_ID: Schema = { type: 'string', minLength: 1, maxLength: 128 };
const ROLE: Schema = { enum: ['owner', 'moderator', 'member'] };
const UNTIL: Schema = {
  type: 'integer',
  description: 'ms since epoch, in the future and before the year 3000; absent: for good',
};
const SETTINGS: Schema = {
  type: 'object',
  properties: {
    retentionDays: { type: 'integer', minimum: 1, maximum: 36500 },
    slowModeMs: { type: 'integer', minimum: 1, maximum: 86400000 },
  },
  additionalProperties: false,
  description: "The room's own rules; an absent one is not set",
};
const EMPTY: Schema = { type: 'object', properties: {}, required: [], additionalProperties: false };

const input = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
});
const target = (extra: Record<string, Schema> = {}, optional: string[] = []): Schema =>
  input({ room: ROOM, userId: USER_ID, ...extra }, optional);

export const MODERATION_REQUESTS = {
  'room.info': {
    summary: "A room's owners, moderators, settings and oldest stored seq (needs the join right)",
    data: input({ room: ROOM }),
    reply: {
      type: 'object',
      properties: {
        room: ROOM,
        owners: { type: 'array', items: USER_ID },
        moderators: { type: 'array', items: USER_ID },
        settings: SETTINGS,
        firstSeq: { type: 'integer', minimum: 1 },
      },
      required: ['room', 'owners', 'moderators', 'settings', 'firstSeq'],
      additionalProperties: false,
    },
  },
  'room.role': {
    summary:
      'Give a role (owners: any; moderators: member <-> moderator of others); push room.role to the room',
    data: target({ role: ROLE }),
    reply: EMPTY,
  },
  'room.kick': {
    summary: 'Take every connection of the user out of the room (moderator+); they may join again',
    data: target(),
    reply: EMPTY,
  },
  'room.ban': {
    summary: 'Take the user out of the room on every instance and refuse their joins until `until`',
    data: target({ until: UNTIL, reason: { type: 'string', minLength: 1, maxLength: 500 } }, [
      'until',
      'reason',
    ]),
    reply: EMPTY,
  },
  'room.unban': { summary: 'Lift a ban', data: target(), reply: EMPTY },
  'room.mute': {
    summary: 'Refuse the user’s sends, edits and reactions in the room until `until`',
    data: target({ until: UNTIL }, ['until']),
    reply: EMPTY,
  },
  'room.unmute': { summary: 'Lift a mute', data: target(), reply: EMPTY },
  'room.settings': {
    summary: 'Change the room’s settings (owners); null clears one, slowModeMs 0 turns it off',
    data: input(
      {
        room: ROOM,
        retentionDays: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
        slowModeMs: { type: ['integer', 'null'], minimum: 0, maximum: 86400000 },
      },
      ['retentionDays', 'slowModeMs'],
    ),
    reply: {
      type: 'object',
      properties: { settings: SETTINGS },
      required: ['settings'],
      additionalProperties: false,
    },
  },
};

export const ROOM_ROLE_PUSH = {
  summary: "A user's role in a joined room changed",
  data: {
    type: 'object',
    properties: { room: ROOM, userId: USER_ID, role: ROLE },
    required: ['room', 'userId', 'role'],
    additionalProperties: false,
  },
};
