import type { StoredMessage } from '../store/message-store';

/**
 * Every domain event, with its payload: the one list of what features announce and what cross-cutting
 * reactions (webhooks, metrics, a team's own providers) may listen to. Features emit; nothing a feature
 * imports listens back, so imports keep running one way.
 */
export interface HubbubEventMap {
  /** A user's first connection in a room joined (any instance). `name` is the member's display name. */
  'presence.joined': { room: string; userId: string; name?: string };
  /** A user has no connection left in a room: left, closed, found dead, or its instance died. */
  'presence.left': { room: string; userId: string };
  /** A chat message was committed (not sent for an idempotent repeat). */
  'chat.stored': { message: StoredMessage };
}

export type HubbubEventName = keyof HubbubEventMap;
export type HubbubEventHandler<K extends HubbubEventName> = (
  payload: HubbubEventMap[K],
) => void | Promise<void>;
