import type { LifecycleEvent, OutboxEvent } from '../store/webhook-outbox';

/**
 * A user's join/leave flapping inside this window is coalesced: a `presence.left` (and a `room.vacated`) waits this
 * long before its first attempt, and a `presence.joined` (a `room.occupied`) of the same lane that comes within it
 * drops out of the outbox together with it, unless it has gone out already. So what is sent still alternates, each
 * event once; a quick leave-and-come-back sends nothing.
 */
export const FLAP_WINDOW_MS = 1_000;

/** The events that close what an earlier one of their lane opened. */
export const CLOSING_EVENTS: ReadonlySet<string> = new Set(['presence.left', 'room.vacated']);

/**
 * How a lifecycle event queues in the outbox (see OutboxEvent): the presence events of one (room, user) share a
 * lane, and so do the occupancy events of one room, so that each goes out in order and one at a time;
 * `message.created` queues per room (the stores see to it). Presence events are charged to their user, occupancy
 * events to the user whose join or leave caused them (`by`): one user's burst over many rooms takes one delivery
 * slot per round.
 */
export function queuedEvent(e: LifecycleEvent, id: string, ts: number, by?: string): OutboxEvent {
  const event: OutboxEvent = { id, type: e.type, ts, data: e.data };
  switch (e.type) {
    case 'presence.joined':
    case 'presence.left':
      event.lane = `presence ${JSON.stringify([e.data.room, e.data.userId])}`;
      event.owner = `user ${JSON.stringify(e.data.userId)}`;
      break;
    case 'room.occupied':
    case 'room.vacated':
      event.lane = `occupancy ${JSON.stringify(e.data.room)}`;
      if (by !== undefined) event.owner = `user ${JSON.stringify(by)}`;
      break;
    case 'message.notify':
      event.owner = `user ${JSON.stringify(e.data.userId)}`;
      break;
    case 'room.moderated':
      break; // no lane: never coalesced or shed with a partner; one per action
  }
  if (e.type === 'presence.joined' || e.type === 'room.occupied') event.coalesceMs = FLAP_WINDOW_MS;
  if (CLOSING_EVENTS.has(e.type)) event.holdMs = FLAP_WINDOW_MS;
  return event;
}
