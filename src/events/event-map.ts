import type { PresenceTransition } from '../presence/store/presence-store';
import type { StoredMessage } from '../store/message-store';

/**
 * Every domain event, with its payload: the one list of what features announce and what cross-cutting
 * reactions (webhooks, metrics, a team's own providers) may listen to. Features emit; nothing a feature
 * imports listens back, so imports keep running one way.
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
  /** A chat message was committed (not sent for an idempotent repeat). */
  'chat.stored': { message: StoredMessage };
}

export type HubbubEventName = keyof HubbubEventMap;
export type HubbubEventHandler<K extends HubbubEventName> = (
  payload: HubbubEventMap[K],
) => void | Promise<void>;

export type { PresenceTransition };
