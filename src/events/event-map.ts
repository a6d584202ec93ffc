import type { PresenceTransition } from '../presence/store/presence-store';
import type { StoredMessage } from '../store/message-store';
import type { ModerationAction } from '../store/moderation-store';

/**
 * Every in-process event, with its payload: the one list of what features announce, what cross-cutting reactions
 * (webhooks, a team's own providers) may listen to, and the cluster commands every instance runs. Features emit;
 * listeners declare themselves with `@OnEvent({ name, priority })`, so nothing an emitter imports listens back and
 * imports keep running one way. The connection events (`connection.opened`, `connection.closed`) carry the
 * transport's Connection, so they are declared beside it, in ws/connection-events.ts, and merged into this map.
 */
export interface HubbubEventMap {
  /** A user's first connection in a room joined (any instance). `name` is the member's display name. */
  'presence.joined': {
    room: string;
    userId: string;
    name?: string;
    transition?: PresenceTransition;
    /** When it happened (ms since epoch); absent: when it is emitted. */
    at?: number;
  };
  /** A user has no connection left in a room: left, closed, found dead, or its instance died. */
  'presence.left': { room: string; userId: string; transition?: PresenceTransition; at?: number };
  /**
   * Cluster mode: an instance is gone (stopped cleanly, or its liveness key expired and this instance won the
   * reap lock). Listeners remove what the shared stores hold for it, e.g. its users' presence.
   */
  'cluster.node-gone': { node: string };
  /**
   * Cluster mode: this instance's state in Redis may be gone (Redis came back, possibly empty, or another instance
   * reaped this one while it was cut off); listeners write it again. `reaped`: the others were told this instance's
   * users left, so what is written back is news to them and is announced.
   */
  'cluster.state-lost': { node: string; reaped: boolean };
  /**
   * The expiry tick (every 250 ms, one timer for the process), after the connections whose token expired were
   * closed: other expiries (subscription tokens) are swept on it.
   */
  'expiry.tick': { now: number };
  /**
   * A new message names users to notify (mentioned, or a dm's recipient; never its author), on the instance that
   * committed it: each of them with no live connection in the cluster gets one `message.notify` webhook.
   */
  'chat.notify': {
    message: StoredMessage;
    recipients: { userId: string; reason: 'mention' | 'dm' }[];
  };
  /**
   * Every part of a person's data was erased (DELETE /api/users/:userId). `id` is the erasure's, the same when a
   * cut-short erasure is resumed: the webhook's id.
   */
  'user.erased': { userId: string; id: string; at: number };
  /** A chat message was committed (not sent for an idempotent repeat). */
  'chat.stored': { message: StoredMessage };
  /** A moderation action was recorded (emitted by the instance that took it; `by`: a user id or `server`). */
  'room.moderated': {
    room: string;
    action: ModerationAction;
    userId: string;
    by: string;
    until?: number;
    ts: number;
  };
  /** A message was edited (committed); `previous` is what it was before (e.g. to find new mentions). */
  'chat.updated': { message: StoredMessage; previous: StoredMessage };
  /** A message became a tombstone (committed; not emitted for a repeated delete). `by`: user id or `server`. */
  'chat.deleted': { room: string; seq: number; userId: string; by: string };
  /** A reaction was added or taken back (committed; not emitted when nothing changed). `count`: users with it now. */
  'chat.reacted': {
    room: string;
    seq: number;
    reaction: string;
    userId: string;
    on: boolean;
    count: number;
  };
  /**
   * Cluster commands, published with PushService.command (as JSON under the topic `ctl:<name without "command.">`)
   * and run on every instance, this one included.
   */
  /** Close every connection of the user with 4403. */
  'command.disconnect': { userId: string };
  /** Subscribe every connection of the user to the channel (the server API). */
  'command.channel.subscribe': { channel: string; userId: string };
  /** Unsubscribe every connection of the user from the channel (the server API). */
  'command.channel.unsubscribe': { channel: string; userId: string };
  /** `chat.read {room, userId, seq}` for every instance's connections in the room and the reader's, joined or not. */
  'command.chat.read': { room: string; userId: string; seq: number; except?: string };
  /**
   * A moderation action changed a room's rules: every instance drops what it cached of them and, for `kick` and
   * `ban`, takes the user's connections out of the room (a ban spares connections whose token has `admin`).
   */
  'command.room.moderated': { room: string; userId: string; action: ModerationAction };
  /**
   * Frames a client sent with `POST /stream/send` to some instance, for the instance holding the stream session
   * (the others ignore it): the raw text of each frame, handled there as if it came on a socket.
   */
  'command.stream.send': { session: string; userId: string; frames: string[] };
  /** A presence push for every instance's connections in the room, each of which keeps a (room, user) in `v` order. */
  'command.presence.push': {
    room: string;
    userId: string;
    v: number;
    event: 'presence.join' | 'presence.leave' | 'presence.update';
    data: unknown;
    /** The id of a connection not to send it to. */
    except?: string;
  };
}

export type HubbubEventName = keyof HubbubEventMap;
/** The events that travel to every instance as cluster commands. */
export type ClusterCommand = Extract<HubbubEventName, `command.${string}`>;
export type HubbubEventHandler<K extends HubbubEventName> = (
  payload: HubbubEventMap[K],
) => void | Promise<void>;

export type { PresenceTransition };
