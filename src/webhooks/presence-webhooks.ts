import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { EventPriority, OnEvent } from '../events/on-event';
import type { HubbubEventMap, PresenceTransition } from '../events/event-map';
import { type Member, PresenceStore } from '../presence/store/presence-store';
import type { LifecycleEvent } from '../store/webhook-outbox';
import { WebhookService } from './webhook.service';

/**
 * Turns presence events into webhook events: `presence.joined` / `presence.left` for a user's first / last
 * connection in a room, `room.occupied` / `room.vacated` for the room's first member in / last member out.
 * Listens to the events (nothing in presence knows about webhooks); without WEBHOOK_URL it does nothing.
 */
@Injectable()
export class PresenceWebhooks {
  private readonly logger = new Logger(PresenceWebhooks.name);

  constructor(
    private readonly webhooks: WebhookService,
    private readonly presence: PresenceStore,
  ) {}

  /**
   * The user's first connection joined `room`. With a transition (cluster mode), the shared store decided it
   * atomically, room.occupied included, and the event ids derive from it: reported once, and a repeat carries
   * the same id, which the outbox drops. `ts` is when it happened: the event's `at`, else now, before anything
   * here waits.
   */
  @OnEvent({ name: 'presence.joined', priority: EventPriority.Reaction })
  async joined({
    room,
    userId,
    name,
    transition,
    at = Date.now(),
  }: HubbubEventMap['presence.joined']): Promise<void> {
    if (!this.webhooks.enabled) return;
    const events: LifecycleEvent[] = [];
    // Without a transition: opened by the room's earliest member (normally its only one).
    const occupied = transition
      ? transition.room
      : (await this.members(room))?.[0]?.userId === userId;
    if (occupied)
      events.push({ type: 'room.occupied', data: { room }, id: idOf(transition, 'room.occupied') });
    events.push({
      type: 'presence.joined',
      data: name === undefined ? { room, userId } : { room, userId, name },
      id: idOf(transition, 'presence.joined'),
    });
    await this.webhooks.emitAll(events, at, userId);
  }

  /** The user has no connection left in `room` (left, closed, or its instance died). */
  @OnEvent({ name: 'presence.left', priority: EventPriority.Reaction })
  async left({
    room,
    userId,
    transition,
    at = Date.now(),
  }: HubbubEventMap['presence.left']): Promise<void> {
    if (!this.webhooks.enabled) return;
    const events: LifecycleEvent[] = [
      { type: 'presence.left', data: { room, userId }, id: idOf(transition, 'presence.left') },
    ];
    const vacated = transition ? transition.room : (await this.members(room))?.length === 0;
    if (vacated)
      events.push({ type: 'room.vacated', data: { room }, id: idOf(transition, 'room.vacated') });
    await this.webhooks.emitAll(events, at, userId);
  }

  private async members(room: string): Promise<Member[] | undefined> {
    try {
      return await this.presence.members(room);
    } catch (err) {
      this.logger.warn(
        `members of ${room} unknown, room.occupied/vacated not decided: ${String(err)}`,
      );
      return undefined;
    }
  }
}

/**
 * The webhook id of one event of a transition: a UUID derived from (hashing) the transition id and the
 * event type, so whoever reports the same transition again produces the same id. Random without a transition.
 */
function idOf(transition: PresenceTransition | undefined, type: string): string | undefined {
  if (!transition) return undefined;
  const b = createHash('sha256').update(`hubbub/${transition.id}/${type}`).digest();
  b[6] = (b[6] & 0x0f) | 0x40; // laid out as version 4, so receivers that check the format accept it
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
