import type { UnreadPush } from '../protocol/pushes';
import { input, int, out, ref, type RequestDoc, type Schema } from './asyncapi-schemas';

/**
 * The read-marker and mention part of the AsyncAPI document (chat-lifecycle): `chat.read`, `chat.unread`,
 * `chat.forget`, what `chat.join`'s reply adds, and the `user.mention` push. Merged in by asyncapi.ts.
 */
const ROOM = ref('RoomName');
const COUNT = (what: string): Schema => int(0, { maximum: 1000, description: what });
const LAST_READ = int(0, { description: "The user's read marker in the room (0: none)" });

/** One room of `chat.unread`. */
const ROOM_UNREAD = out({
  room: ROOM,
  seq: int(0, { description: "The room's last seq" }),
  lastRead: LAST_READ,
  unread: COUNT("Other users' messages above lastRead, deleted ones left out (at most 1000)"),
  mentions: COUNT('Those of them that mention the user'),
});

export const UNREAD_REQUESTS: Record<string, RequestDoc> = {
  'chat.read': {
    summary:
      'Move your read marker forward (never back); pushed as chat.read to the room and your other connections',
    data: input({ room: ROOM, seq: int(0) }),
    reply: out({}),
  },
  'chat.unread': {
    summary:
      'Your rooms with a read marker, and your dm rooms, newest activity first (at most 200), with unread counts',
    data: input({}),
    reply: out({ rooms: { type: 'array', items: ROOM_UNREAD, maxItems: 200 } }),
  },
  'chat.forget': {
    summary: 'Drop your read marker of a room (a dm room stays listed, its marker back at 0)',
    data: input({ room: ROOM }),
    reply: out({}),
  },
};

export const UNREAD_PUSH_DOCS: Record<UnreadPush, { summary: string; data: Schema }> = {
  'user.mention': {
    summary: 'A message mentions you (`@<userId>`): to every connection of yours, joined or not',
    data: out({ room: ROOM, message: ref('Message') }),
  },
};

/** `chat.join`'s reply with the user's read marker and unread count. */
export function withJoinUnread(requests: Record<string, RequestDoc>): Record<string, RequestDoc> {
  const join = requests['chat.join'];
  const reply = join.reply as { properties: Record<string, Schema>; required: string[] };
  const properties = {
    ...reply.properties,
    lastRead: LAST_READ,
    unread: COUNT("Other users' messages above lastRead, deleted ones left out (at most 1000)"),
  };
  return {
    ...requests,
    'chat.join': {
      ...join,
      reply: { ...join.reply, properties, required: [...reply.required, 'lastRead', 'unread'] },
    },
    ...UNREAD_REQUESTS,
  };
}
