/** TypeScript declarations for the Hubbub client SDK (hubbub-client.js). Wire protocol: docs/protocol.md. */
import type { ChatLifecycleEvents, ChatLifecycleMethods, LeftReason, ModerationMethods } from './hubbub-chat.js';

export type * from './hubbub-chat.js';

export interface Message {
  id: string;
  room: string;
  /** 1, 2, 3 … per room, no gaps. */
  seq: number;
  userId: string;
  name?: string;
  text: string;
  /** ms since the epoch. */
  ts: number;
  clientMsgId?: string;
  /** The seq of the message of the same room this one replies to. */
  replyTo?: number;
  /** User ids mentioned as `@<userId>` in `text` (at most 20). */
  mentions?: string[];
  /** When it was last edited, ms since the epoch. */
  editedAt?: number;
  /** Deleted: `text` is then "" and mentions and reactions are gone; the seq stays. */
  deleted?: true;
  /** `{<reaction>: count}`. */
  reactions?: Record<string, number>;
}

export interface Member {
  userId: string;
  name?: string;
  status: PresenceStatus;
  /** How many of the user's sockets are in the room. */
  connections: number;
  since: number;
  /** Grows with each presence change of this (room, user) across the cluster: drop a push older than what you hold. */
  v: number;
}

export interface Publication<T = unknown> {
  channel: string;
  offset: number;
  data: T;
  userId?: string;
  ts: number;
}

export interface Welcome {
  clientId: string;
  userId: string;
  node: string;
  heartbeatMs: number;
  serverTime: number;
}

export type PresenceStatus = 'online' | 'away' | 'busy';

export interface JoinReply {
  room: string;
  seq: number;
  members: Member[];
  messages: Message[];
  /** This user's read marker of the room (0 when nothing is read). */
  lastRead: number;
  /** Other users' messages above `lastRead` (capped at 1000). */
  unread: number;
}

export interface SubscribeReply {
  channel: string;
  offset: number;
  /** Names the channel's stream; changes when its offsets restart. Sent back with `since` on resubscribe. */
  epoch: string;
  recovered: boolean;
  publications: Publication[];
}

export interface HubbubClientOptions {
  /** A fixed JWT. Give this or `getToken`, or neither when the server authenticates upgrades another way. */
  token?: string;
  /** Called before the first connection, after a 4401 (token expired) close, after a failed handshake
   * (browsers cannot tell a 401 refusal from a network error, so a fresh token is asked for each retry), and
   * about 30 s before the current token's `exp`, whose answer is sent with `auth.refresh`. */
  getToken?: () => string | Promise<string>;
  /** Reconnect after unexpected closes (default true). Never after 4403 or 4429, nor 4401 without getToken. */
  reconnect?: boolean;
  /** Default request timeout (10000 ms). */
  timeoutMs?: number;
  /** Backoff: delay = random(0, min(backoffMaxMs, backoffBaseMs × 2^attempt)); defaults 500 and 30000 ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** WebSocket implementation; default `globalThis.WebSocket`. */
  WebSocket?: typeof WebSocket;
  /**
   * The transports to use, in order of preference (default all three). A WebSocket that has not opened within
   * `fallbackAfterMs`, or fails before opening, gives way to Server-Sent Events (`GET /sse`), then a streamed
   * response (`POST /stream`); the one that worked is remembered for the page's session (sessionStorage). Give one
   * to force it, e.g. `['sse']`.
   */
  transports?: Transport[];
  /** How long a WebSocket may take to open before the next transport is tried (default 3000 ms). */
  fallbackAfterMs?: number;
}

/** The client transports (the server's `TRANSPORTS`). */
export type Transport = 'websocket' | 'sse' | 'stream';

export interface DisconnectedEvent {
  /** The WebSocket close code: 1001 shutdown, 1006 abnormal, 1013 slow consumer, 4401, 4403, 4429 … */
  code: number;
  /** The close reason; for a refused handshake, the server's reason (`token expired`, `origin not allowed`, …). */
  reason: string;
  /**
   * A refused handshake's HTTP status (401 token, 403 origin, 429 too many connections, 503 unavailable), asked of
   * `GET /ws` after the close since browsers hide it; absent otherwise.
   */
  status?: number;
  /** Whether the client will reconnect on its own. */
  reconnecting: boolean;
}

/** Events the client emits: server pushes by name, plus its own lifecycle events. */
export interface HubbubEvents {
  welcome: Welcome;
  /** After each (re)connection has been restored (rooms rejoined, channels resubscribed, status reset). */
  connected: { welcome: Welcome; reconnected: boolean };
  disconnected: DisconnectedEvent;
  /** Messages from others, deduplicated by seq and in seq order per joined room, catch-up after reconnects included. */
  'chat.message': Message;
  'chat.typing': { room: string; userId: string; typing: boolean };
  'chat.read': { room: string; userId: string; seq: number };
  'channel.message': Publication;
  /** After a reconnect, a channel's missed publications were no longer all in the recovery window, or the
   * channel's offsets restarted (a new `epoch`): the app should resync that channel from its own source. */
  'channel.recovery': { channel: string; recovered: false; offset: number; epoch: string };
  /** The server API subscribed this connection to a channel; it is then tracked like `subscribe()`. */
  'channel.subscribed': { channel: string; offset: number; epoch: string };
  /** The server removed the subscription: `server` (server API) or `forbidden` (a refreshed token no longer grants it). */
  /** `token_expired`: the subscription token ran out with no `refreshChannel()` before. */
  'channel.unsubscribed': { channel: string; reason: 'server' | 'forbidden' | 'token_expired' };
  /** The server removed the connection from a room: `server` (server API), `forbidden` after a refreshed token no
   * longer grants it, `kicked` or `banned` by a room moderator. */
  'chat.left': { room: string; reason: LeftReason };
  /** A message for this user from the server API. */
  'user.message': { data: unknown; from: 'server' };
  /** `auth.refresh` succeeded: the connection now runs on the new token until `exp` (seconds). */
  refreshed: { exp: number };
  /** The automatic `auth.refresh` failed (getToken threw, or the server refused the token). */
  'refresh.error': Error;
  'presence.join': { room: string; member: Member };
  'presence.leave': { room: string; userId: string; v: number };
  'presence.update': { room: string; member: Member };
  broadcast: { data: unknown; from: string };
  /** Error frames without an id, e.g. `token_expired` before a 4401 close. */
  error: { code: string; message: string; details?: unknown };
  /** Restoring a room or channel after a reconnect failed (e.g. `forbidden`). */
  'restore.error': HubbubError;
}

/**
 * An error frame from the server, or a local failure: `timeout`, `disconnected`, `closed`, or `refused` (the
 * handshake was refused; `message` says why, e.g. `handshake refused: token expired (HTTP 401)`, and `details`
 * holds `{code, status, reason}`).
 */
export class HubbubError extends Error {
  constructor(code: string, message: string, details?: unknown);
  readonly code: string;
  readonly details?: unknown;
}

export class HubbubClient {
  /** @param url `ws(s)://host:port/ws`; in browsers also a relative or http(s) URL such as `/ws`. */
  constructor(url: string, options: HubbubClientOptions);
  /** The latest `welcome` data. */
  readonly welcome: Welcome | null;
  /** True while connected, welcomed and restored. */
  readonly connected: boolean;
  /** The transport in use while connected (`websocket`, `sse` or `stream`), else null. */
  readonly transport: Transport | null;
  /** Opens the connection; resolves on `welcome`. Rejects (HubbubError `closed`) when the first attempt fails. */
  connect(): Promise<Welcome>;
  /** Closes for good: no reconnect; waiting requests fail with `closed`. */
  close(): void;
  on<E extends keyof HubbubEvents>(event: E, handler: (data: HubbubEvents[E]) => void): this;
  on(event: string, handler: (data: any) => void): this;
  off<E extends keyof HubbubEvents>(event: E, handler: (data: HubbubEvents[E]) => void): this;
  off(event: string, handler: (data: any) => void): this;
  /**
   * Sends `{event, data, id}` (id generated) and resolves with the reply's `data`, or rejects with a HubbubError
   * carrying the error frame's `code` and `details`. Made while (re)connecting, it waits for the connection.
   */
  request<T = any>(event: string, data?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  /** Joins a room; its messages are then tracked by seq and caught up after reconnects. */
  join(room: string): Promise<JoinReply>;
  leave(room: string): Promise<{ room: string }>;
  /** Gets a token from `getToken()` and sends it with `auth.refresh`; done on its own ~30 s before `exp`. */
  refresh(): Promise<{ exp: number }>;
  /**
   * Sends a message with a generated (or given) clientMsgId; after a disconnect it is resent with the same id, so
   * the server stores it once. Resolves with the stored message, which is not emitted as `chat.message`.
   */
  send(
    room: string,
    text: string,
    options?: { clientMsgId?: string; timeoutMs?: number; replyTo?: number },
  ): Promise<Message>;
  typing(room: string, typing: boolean): Promise<Record<string, never>>;
  /** Each publication reaches `handler` (and `channel.message` listeners) once, in order, recovered ones included. */
  subscribe<T = unknown>(
    channel: string,
    handler?: (publication: Publication<T>) => void,
    options?: { token?: string },
  ): Promise<SubscribeReply>;
  /**
   * Sends a later subscription token for a channel subscribed to with one (`channel.refresh`): the subscription then
   * ends at its `exp` (else at the first token's, with `channel.unsubscribed {reason: "token_expired"}`).
   */
  refreshChannel(channel: string, token: string): Promise<{ channel: string; exp: number }>;
  unsubscribe(channel: string): Promise<{ channel: string }>;
  publish(channel: string, data: unknown): Promise<{ offset: number }>;
  /** Sets the presence status in every joined room; restored after a reconnect. */
  setStatus(status: PresenceStatus): Promise<void>;
}

/** Events of the chat lifecycle and moderation (hubbub-chat.d.ts), merged into HubbubEvents. */
export interface HubbubEvents extends ChatLifecycleEvents {}
/** edit, delete, react, reactions, thread, search, unread, markRead, forget (hubbub-chat.js), and the moderation
 * methods roomInfo, setRole, kick, ban, unban, mute, unmute, setRoomSettings. */
export interface HubbubClient extends ChatLifecycleMethods, ModerationMethods {}
