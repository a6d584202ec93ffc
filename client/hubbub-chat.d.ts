/** TypeScript declarations for hubbub-chat.js: chat lifecycle and moderation methods of HubbubClient. */
import type { Message } from './hubbub-client.js';

/** `{<reaction>: count}` of one message. */
export type Reactions = Record<string, number>;

export interface ThreadReply {
  room: string;
  /** The message replied to. */
  seq: number;
  /** Its replies, ascending seq. */
  messages: Message[];
  /** True when more replies follow the last one: ask again with `after` its seq. */
  more: boolean;
}

export interface SearchReply {
  room: string;
  /** Messages holding every word of the query, newest first; deleted ones never, edited ones by their new text. */
  messages: Message[];
  /** True when more matches precede the last one: ask again with `before` its seq. */
  more: boolean;
}

export interface UnreadRoom {
  room: string;
  /** The room's latest seq. */
  seq: number;
  /** The user's read marker (0 when nothing is read). */
  lastRead: number;
  /** Other users' messages above `lastRead`, capped at 1000. */
  unread: number;
  /** How many of those mention the user. */
  mentions: number;
}

export type RoomRole = 'owner' | 'moderator' | 'member';

export interface RoomSettings {
  retentionDays?: number;
  slowModeMs?: number;
}

export interface RoomInfo {
  room: string;
  owners: string[];
  moderators: string[];
  settings: RoomSettings;
  /** The oldest seq still stored (retention deletes older ones). */
  firstSeq: number;
}

/** Why the server took the connection out of a room. */
export type LeftReason = 'server' | 'forbidden' | 'kicked' | 'banned';

/** Pushes of the chat lifecycle and moderation events. */
export interface ChatLifecycleEvents {
  /** Another connection edited a message of a joined room (`editedAt` set). */
  'chat.updated': { room: string; message: Message };
  /** A message of a joined room was deleted: show it as deleted (its text, mentions and reactions are gone). */
  'chat.deleted': { room: string; seq: number };
  /** A user added (`on`) or took back a reaction; `count` is the reaction's new count on that message. */
  'chat.reacted': { room: string; seq: number; reaction: string; userId: string; on: boolean; count: number };
  /** This user was mentioned (`@<userId>`) in a room, joined or not, on every connection of theirs. */
  'user.mention': { room: string; message: Message };
  /** A user's role in a joined room changed. */
  'room.role': { room: string; userId: string; role: RoomRole };
}

export interface ChatLifecycleMethods {
  /** Edits one of this user's own messages (`chat.edit`); resolves with it, `editedAt` set. */
  edit(room: string, seq: number, text: string): Promise<Message>;
  /** Deletes a message (`chat.delete`): its author, a room moderator or owner, or admin. Deleting twice is fine. */
  delete(room: string, seq: number): Promise<void>;
  /** Adds (`on`, default true) or takes back this user's reaction (`chat.react`); resolves with the message's counts. */
  react(room: string, seq: number, reaction: string, on?: boolean): Promise<Reactions>;
  /** Who reacted to the message with `reaction` (`chat.reactions`, at most 100 user ids). */
  reactions(room: string, seq: number, reaction: string): Promise<string[]>;
  /** The replies to message `seq` (`chat.thread`), ascending; `limit` 1..100. */
  thread(room: string, seq: number, options?: { after?: number; limit?: number }): Promise<ThreadReply>;
  /** Full-text search of one room (`chat.search`), newest first; `limit` 1..50, default 20. */
  search(room: string, q: string, options?: { before?: number; limit?: number }): Promise<SearchReply>;
  /** Unread and mention counts of the user's rooms (`chat.unread`), newest activity first, at most 200. */
  unread(): Promise<UnreadRoom[]>;
  /** Moves this user's read marker of `room` forward to `seq` (`chat.read`; never back). */
  markRead(room: string, seq: number): Promise<void>;
  /** Drops this user's read marker of `room` (`chat.forget`). */
  forget(room: string): Promise<void>;
}

/** Room moderation; each refused with `forbidden` (and the reason) without the role it needs. */
export interface ModerationMethods {
  /** Owners, moderators, settings and `firstSeq` of a room the user may join (`room.info`). */
  roomInfo(room: string): Promise<RoomInfo>;
  /** Owners set any role; moderators only `member` ↔ `moderator` for others (`room.role`). */
  setRole(room: string, userId: string, role: RoomRole): Promise<void>;
  /** Takes every connection of the user out of the room; they may join again (`room.kick`). */
  kick(room: string, userId: string): Promise<void>;
  /** Takes the user out of the room and refuses their joins until `until` (ms since epoch) or for good (`room.ban`). */
  ban(room: string, userId: string, options?: { until?: number; reason?: string }): Promise<void>;
  unban(room: string, userId: string): Promise<void>;
  /** Refuses the user's sends, edits and reactions until `until` (ms since epoch) or `unmute` (`room.mute`). */
  mute(room: string, userId: string, options?: { until?: number }): Promise<void>;
  unmute(room: string, userId: string): Promise<void>;
  /** Changes the room's settings (owner, `room.settings`); resolves with all of them. */
  setRoomSettings(room: string, settings: RoomSettings): Promise<RoomSettings>;
}

export const chatLifecycleMethods: ChatLifecycleMethods;
export const moderationMethods: ModerationMethods;
/** Installs both method sets on a client class; hubbub-client.js does it for HubbubClient. */
export function installChatMethods(ClientClass: { prototype: object }): void;

/** `details` of a `forbidden` error for a banned or muted user (`until`: ms since epoch; absent: for good). */
export interface ForbiddenDetails {
  reason: 'banned' | 'muted';
  until?: number;
}
