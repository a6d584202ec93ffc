import type { HubbubEventMap, HubbubEventName } from './event-map';

/**
 * Where a listener runs among the listeners of its event: lowest first. Listeners of equal priority run in the
 * order they were found, which carries no meaning: give a priority wherever the order matters.
 */
export const EventPriority = {
  /** This instance's own bookkeeping of a connection (room and channel indexes, expiry timers). */
  Local: -10,
  Default: 0,
  /** What other instances and users see: the shared presence store and its announcements. */
  Shared: 10,
  /** Reactions that record what happened (lifecycle webhooks). */
  Reaction: 20,
} as const;

export interface OnEventOptions<K extends HubbubEventName> {
  name: K;
  /** Lowest first; EventPriority.Default when absent. */
  priority?: number;
}

/** Metadata key of OnEvent, read at bootstrap by EventListeners. */
export const ON_EVENT = Symbol('OnEvent');

/**
 * Declares a method of a provider a listener of one event, e.g. `@OnEvent({ name: 'presence.joined' })`. The
 * method takes the event's payload (checked against HubbubEventMap). Listeners are found once, at bootstrap,
 * among every provider of the app (a team's too), and run in the order of their priority.
 */
export function OnEvent<K extends HubbubEventName>(options: OnEventOptions<K>) {
  return <T extends (payload: HubbubEventMap[K]) => unknown>(
    _target: object,
    _key: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    const method = descriptor.value as object;
    const list = (Reflect.getMetadata(ON_EVENT, method) as OnEventOptions<K>[] | undefined) ?? [];
    Reflect.defineMetadata(ON_EVENT, [...list, options], method);
  };
}
