import { ERROR_CODES } from '../protocol/errors';
import type { ChatLifecyclePush, PushEvent, UnreadPush } from '../protocol/pushes';
import { MODERATION_REQUESTS, ROOM_ROLE_PUSH } from './asyncapi-moderation';
import { CHANNEL_REASON, REASON } from './asyncapi-reasons';

/**
 * The JSON schemas of the socket protocol, event by event, for the AsyncAPI document. They mirror the DTOs of the
 * gateways (requests) and what the services send (replies and pushes); test/http/asyncapi.e2e-spec.ts validates real
 * frames against them.
 */
export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const int = (minimum?: number, extra: Schema = {}): Schema =>
  minimum === undefined ? { type: 'integer', ...extra } : { type: 'integer', minimum, ...extra };
export const str = (minLength: number, maxLength: number, extra: Schema = {}): Schema => ({
  type: 'string',
  minLength,
  maxLength,
  ...extra,
});
const bool: Schema = { type: 'boolean' };
const ANY: Schema = { description: 'Any JSON value' };
/** Member.v and presence.leave's v. */
const V: Schema = int(0, {
  description:
    'Grows with each presence change of this (room, user) across the cluster: drop a push older than what you hold',
});

/** What the server sends: every listed field, nothing else (`optional` ones may be absent). */
export function out(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  };
}

/** What a client sends: unknown fields are ignored (stripped) by the server. */
export function input(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
  };
}

const ROOM = ref('RoomName');
const CHANNEL = ref('ChannelName');
const USER_ID = str(1, 128);
const TEXT = str(1, 4000);
const EPOCH: Schema = {
  type: 'string',
  description: 'Names the stream of offsets; changes whenever offsets restart',
};

export const SHARED_SCHEMAS: Record<string, Schema> = {
  MessageId: {
    description: 'Chosen by the client; the reply carries the same value',
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
  RoomName: {
    type: 'string',
    pattern: '^[A-Za-z0-9_.:-]{1,128}$',
    description: '`private:` rooms need a `rooms` claim; `dm:<a>:<b>` rooms are made by the server',
  },
  ChannelName: {
    type: 'string',
    maxLength: 128,
    pattern: '^[A-Za-z0-9_.:-]+(#[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*)?$',
    description: 'May end with a user limit `#<id>[,<id>…]`: only those users may subscribe',
  },
  Message: out(
    {
      id: { type: 'string', format: 'uuid' },
      room: ROOM,
      seq: int(1, { description: '1, 2, 3 … per room, no gaps' }),
      userId: USER_ID,
      name: { type: 'string' },
      text: TEXT,
      ts: int(0, { description: 'ms since epoch' }),
      clientMsgId: str(1, 128),
    },
    ['name', 'clientMsgId'],
  ),
  Member: out(
    {
      userId: USER_ID,
      name: { type: 'string' },
      status: { enum: ['online', 'away', 'busy'] },
      connections: int(1),
      since: int(0, { description: 'ms since epoch' }),
      v: V,
    },
    ['name'],
  ),
  Publication: out(
    {
      channel: CHANNEL,
      offset: int(1, { description: '+1 per publication in the channel' }),
      data: ANY,
      userId: USER_ID,
      ts: int(0),
    },
    ['userId'],
  ),
  ErrorBody: out(
    {
      code: { enum: [...ERROR_CODES] },
      message: { type: 'string' },
      details: {
        description:
          'validation_failed: a list of {field, errors[]}; rate_limited: {retryAfterMs}; forbidden by a ban or a mute: {reason: "banned" | "muted", until?}; else absent',
      },
    },
    ['details'],
  ),
};

export interface RequestDoc {
  summary: string;
  /** `data` of the request. */
  data: Schema;
  /** `data` of the success reply (sent only when the request carried an `id`). */
  reply: Schema;
  /** Event name of the reply when it is not the request's own (`ping` → `pong`). */
  replyEvent?: string;
}

const EMPTY = out({});

export const REQUESTS: Record<string, RequestDoc> = {
  ping: { summary: 'Liveness', data: input({}), reply: out({ ts: int(0) }), replyEvent: 'pong' },
  'auth.refresh': {
    summary: 'Replace the token before it expires (same `sub`)',
    data: input({ token: { type: 'string', minLength: 1 } }),
    reply: out({ exp: int(0, { description: 'seconds since epoch' }) }),
  },
  'server.stats': {
    summary: 'Cluster-wide connections, uptime, node',
    data: input({}),
    reply: out({ connections: int(0), uptimeSec: int(0), node: { type: 'string' } }),
  },
  broadcast: {
    summary: 'Push `broadcast` to every connection (admin role)',
    data: input({ data: ANY }),
    reply: EMPTY,
  },
  'chat.join': {
    summary: 'Join a room: members and recent (or missed) messages',
    data: input({ room: ROOM, since: int(0) }, ['since']),
    reply: out(
      {
        room: ROOM,
        seq: int(0),
        members: { type: 'array', items: ref('Member') },
        messages: { type: 'array', items: ref('Message'), maxItems: 100 },
        more: {
          const: true,
          description: 'Present when messages were left out to stay under HISTORY_REPLY_MAX_BYTES',
        },
      },
      ['more'],
    ),
  },
  'chat.leave': {
    summary: 'Leave a room',
    data: input({ room: ROOM }),
    reply: out({ room: ROOM }),
  },
  'chat.send': {
    summary: 'Send a message, acknowledged once durably stored',
    data: input({ room: ROOM, text: TEXT, clientMsgId: str(1, 128) }, ['clientMsgId']),
    reply: out({ message: ref('Message') }),
  },
  'chat.history': {
    summary: 'Page through the messages of a room (ascending seq)',
    data: input({ room: ROOM, before: int(0), after: int(0), limit: int(1, { maximum: 100 }) }, [
      'before',
      'after',
      'limit',
    ]),
    reply: out(
      {
        room: ROOM,
        messages: { type: 'array', items: ref('Message') },
        more: {
          const: true,
          description: 'Present when messages were left out to stay under HISTORY_REPLY_MAX_BYTES',
        },
      },
      ['more'],
    ),
  },
  'chat.typing': {
    summary: 'Tell the room you are (not) typing',
    data: input({ room: ROOM, typing: bool }),
    reply: EMPTY,
  },
  'chat.dm': {
    summary: 'Direct message, stored in `dm:<a>:<b>`',
    data: input({ to: USER_ID, text: TEXT, clientMsgId: str(1, 128) }, ['clientMsgId']),
    reply: out({ message: ref('Message') }),
  },
  'chat.read': {
    summary: 'Tell the room how far you have read',
    data: input({ room: ROOM, seq: int(0) }),
    reply: EMPTY,
  },
  'channel.subscribe': {
    summary: 'Subscribe, recovering what was missed after `since` (with its `epoch`)',
    data: input(
      {
        channel: CHANNEL,
        since: int(0),
        epoch: EPOCH,
        token: { type: 'string', description: 'Subscription token for a private: channel' },
      },
      ['since', 'epoch', 'token'],
    ),
    reply: out(
      {
        channel: CHANNEL,
        offset: int(0),
        epoch: EPOCH,
        recovered: bool,
        publications: { type: 'array', items: ref('Publication') },
        more: {
          const: true,
          description:
            'Present when publications were left out to stay under HISTORY_REPLY_MAX_BYTES',
        },
      },
      ['more'],
    ),
  },
  'channel.unsubscribe': {
    summary: 'Unsubscribe',
    data: input({ channel: CHANNEL }),
    reply: out({ channel: CHANNEL }),
  },
  'channel.refresh': {
    summary:
      'A newer subscription token for a channel subscribed to with one: the subscription now ends at its `exp`',
    data: input({ channel: CHANNEL, token: { type: 'string', minLength: 1 } }),
    reply: out({ channel: CHANNEL, exp: int(0, { description: 'seconds since epoch' }) }),
  },
  'channel.publish': {
    summary: 'Publish (a `publish` claim or admin)',
    data: input({ channel: CHANNEL, data: ANY }),
    reply: out({ offset: int(1) }),
  },
  'presence.list': {
    summary: 'Members of a room',
    data: input({ room: ROOM }),
    reply: out({ room: ROOM, members: { type: 'array', items: ref('Member') } }),
  },
  'presence.status': {
    summary: 'Set your status in every room',
    data: input({ status: { enum: ['online', 'away', 'busy'] } }),
    reply: EMPTY,
  },
  'presence.query': {
    summary: 'Which of these users are online, anywhere',
    data: input({
      userIds: { type: 'array', items: USER_ID, minItems: 1, maxItems: 100 },
    }),
    reply: out({ online: { type: 'object', additionalProperties: bool } }),
  },
  ...MODERATION_REQUESTS,
};

/** `data` of each push; typed by PushEvent, so a push missing here does not compile. */
export const PUSHES: Record<
  Exclude<PushEvent, ChatLifecyclePush | UnreadPush>,
  { summary: string; data: Schema }
> = {
  welcome: {
    summary: 'First frame after the handshake',
    data: out(
      {
        clientId: { type: 'string' },
        userId: USER_ID,
        node: { type: 'string' },
        heartbeatMs: int(1),
        serverTime: int(0),
        // On `GET /sse` and `POST /stream` only: the session `POST /stream/send` names.
        session: { type: 'string' },
      },
      ['session'],
    ),
  },
  error: {
    summary: 'A failure; with the request `id` when it answers one (token_expired comes without)',
    data: ref('ErrorBody'),
  },
  broadcast: {
    summary: 'From an admin or the server API',
    data: out({ data: ANY, from: { type: 'string' } }),
  },
  'chat.message': { summary: 'A new message in a joined room, or a dm', data: ref('Message') },
  'chat.typing': {
    summary: 'Someone is (no longer) typing',
    data: out({ room: ROOM, userId: USER_ID, typing: bool }),
  },
  'chat.read': {
    summary: 'Someone read up to `seq`',
    data: out({ room: ROOM, userId: USER_ID, seq: int(0) }),
  },
  'chat.left': {
    summary: 'The server removed this connection from a room',
    data: out({ room: ROOM, reason: REASON }),
  },
  'presence.join': {
    summary: "A user's first connection joined the room",
    data: out({ room: ROOM, member: ref('Member') }),
  },
  'presence.leave': {
    summary: "A user's last connection left (closed, or found dead)",
    data: out({ room: ROOM, userId: USER_ID, v: V }),
  },
  'presence.update': {
    summary: 'A member changed status',
    data: out({ room: ROOM, member: ref('Member') }),
  },
  'channel.message': { summary: 'A publication in a subscribed channel', data: ref('Publication') },
  'channel.subscribed': {
    summary: 'The server API subscribed this connection',
    data: out({ channel: CHANNEL, offset: int(0), epoch: EPOCH }),
  },
  'channel.unsubscribed': {
    summary: 'The server removed this connection from a channel',
    data: out({ channel: CHANNEL, reason: CHANNEL_REASON }),
  },
  'user.message': {
    summary: 'From the server API to every connection of this user',
    data: out({ data: ANY, from: { type: 'string' } }),
  },
  'room.role': ROOM_ROLE_PUSH,
};
