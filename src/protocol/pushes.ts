/**
 * Every push the server sends (frames without an `id`), in one list: PushService accepts only these names, and the
 * AsyncAPI document (src/docs/asyncapi.ts) must describe each of them, so a new push is added here first.
 */
/** The pushes of edits, deletions and reactions (chat-lifecycle; documented in docs/asyncapi-chat-lifecycle.ts). */
export const CHAT_LIFECYCLE_PUSHES = ['chat.updated', 'chat.deleted', 'chat.reacted'] as const;
export type ChatLifecyclePush = (typeof CHAT_LIFECYCLE_PUSHES)[number];
/** The pushes of read markers and mentions (chat-lifecycle; documented in docs/asyncapi-unread.ts). */
export const UNREAD_PUSHES = ['user.mention'] as const;
export type UnreadPush = (typeof UNREAD_PUSHES)[number];

export const PUSH_EVENTS = [
  'welcome',
  'error',
  'broadcast',
  'chat.message',
  'chat.typing',
  'chat.read',
  'chat.left',
  'presence.join',
  'presence.leave',
  'presence.update',
  'channel.message',
  'channel.subscribed',
  'channel.unsubscribed',
  'user.message',
  'room.role',
  ...CHAT_LIFECYCLE_PUSHES,
  ...UNREAD_PUSHES,
] as const;
export type PushEvent = (typeof PUSH_EVENTS)[number];

/** Hubbub's own namespaces and names: a push there must be one of PUSH_EVENTS. Teams push in their own namespaces. */
type Reserved =
  | `${'chat' | 'presence' | 'channel' | 'user' | 'auth' | 'server' | 'room'}.${string}`
  | 'welcome'
  | 'error'
  | 'broadcast'
  | 'pong';

/**
 * The event name a push may have: one of PUSH_EVENTS, or a name outside Hubbub's namespaces (a team's gateway,
 * e.g. `team.shouted`). An unlisted `chat.…` literal is a type error, so a new push cannot skip the list.
 */
export type PushName<E extends string> = E extends PushEvent ? E : E extends Reserved ? never : E;
