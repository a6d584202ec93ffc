import type { ChatLifecyclePush } from '../protocol/pushes';
import { input, int, out, ref, type RequestDoc, type Schema, str } from './asyncapi-schemas';

/**
 * The chat-lifecycle part of the AsyncAPI document (edits, deletions, reactions, replies, mentions, search): the
 * Message fields, the requests (`chat.send` gains `replyTo`) and the pushes. Merged in by asyncapi.ts.
 */
const ROOM = ref('RoomName');
const SEQ = int(1);
const MESSAGES = { type: 'array', items: ref('Message') };
const MORE: Schema = {
  type: 'boolean',
  description:
    'true when messages were left out (past `limit`, or to stay under HISTORY_REPLY_MAX_BYTES)',
};
const REACTION = str(1, 32, { pattern: '^\\S+$', description: '1..32 characters, no whitespace' });
const REACTIONS: Schema = {
  type: 'object',
  additionalProperties: int(1),
  description: 'Users per reaction; at most 20 reactions per message',
};

/** Fields the Message schema gains (all optional). */
export const MESSAGE_LIFECYCLE_FIELDS: Record<string, Schema> = {
  replyTo: int(1, { description: 'The seq (same room) this message answers' }),
  mentions: {
    type: 'array',
    items: str(1, 128),
    maxItems: 20,
    description: 'Users named as @<userId> who may read the room',
  },
  editedAt: int(0, { description: 'ms since epoch of the last edit' }),
  deleted: { const: true, description: 'A tombstone: text "" and no name, mentions or reactions' },
  reactions: REACTIONS,
};

/** The Message schema with the chat-lifecycle fields. */
export function withLifecycleFields(message: Schema): Schema {
  const properties = message.properties as Record<string, Schema>;
  return { ...message, properties: { ...properties, ...MESSAGE_LIFECYCLE_FIELDS } };
}

export const LIFECYCLE_REQUESTS: Record<string, RequestDoc> = {
  'chat.send': {
    summary:
      'Send a message, acknowledged once durably stored; `@<userId>` in the text mentions that user',
    data: input({ room: ROOM, text: str(1, 4000), clientMsgId: str(1, 128), replyTo: SEQ }, [
      'clientMsgId',
      'replyTo',
    ]),
    reply: out({ message: ref('Message') }),
  },
  'chat.edit': {
    summary: 'Edit your own message (not as admin); pushed as chat.updated',
    data: input({ room: ROOM, seq: SEQ, text: str(1, 4000) }),
    reply: out({ message: ref('Message') }),
  },
  'chat.delete': {
    summary:
      'Delete a message (the author, a moderator or owner, or admin): text, mentions and reactions erased',
    data: input({ room: ROOM, seq: SEQ }),
    reply: out({}),
  },
  'chat.react': {
    summary: 'Add (`on: true`) or take back a reaction; pushed as chat.reacted',
    data: input({ room: ROOM, seq: SEQ, reaction: REACTION, on: { type: 'boolean' } }),
    reply: out({ reactions: REACTIONS }),
  },
  'chat.reactions': {
    summary: 'Who reacted with this reaction (at most 100, oldest first)',
    data: input({ room: ROOM, seq: SEQ, reaction: REACTION }),
    reply: out({ userIds: { type: 'array', items: str(1, 128), maxItems: 100 } }),
  },
  'chat.thread': {
    summary: 'The replies to a message, ascending seq',
    data: input({ room: ROOM, seq: SEQ, after: int(0), limit: int(1, { maximum: 100 }) }, [
      'after',
      'limit',
    ]),
    reply: out({ room: ROOM, seq: SEQ, messages: MESSAGES, more: MORE }),
  },
  'chat.search': {
    summary: 'Full-text search of a room: messages holding every word of q, newest first',
    data: input(
      {
        room: ROOM,
        q: str(1, 256, { description: 'Words: runs of letters and digits; case is ignored' }),
        before: int(1, { description: 'Only messages with a lower seq' }),
        limit: int(1, { maximum: 50 }),
      },
      ['before', 'limit'],
    ),
    reply: out({ room: ROOM, messages: MESSAGES, more: MORE }),
  },
};

export const LIFECYCLE_PUSHES: Record<ChatLifecyclePush, { summary: string; data: Schema }> = {
  'chat.updated': {
    summary: 'A message of a joined room was edited',
    data: out({ room: ROOM, message: ref('Message') }),
  },
  'chat.deleted': {
    summary: 'A message of a joined room was deleted (it stays as a tombstone)',
    data: out({ room: ROOM, seq: SEQ }),
  },
  'chat.reacted': {
    summary: 'A reaction was added or taken back',
    data: out({
      room: ROOM,
      seq: SEQ,
      reaction: REACTION,
      userId: str(1, 128),
      on: { type: 'boolean' },
      count: int(0, { description: 'Users with this reaction now' }),
    }),
  },
};
