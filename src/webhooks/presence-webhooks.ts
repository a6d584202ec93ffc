import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '../events/event-bus';
import type { HubbubEventMap } from '../events/event-map';
import { type Member, PresenceStore } from '../presence/store/presence-store';
import type { LifecycleEvent } from '../store/webhook-outbox';
import { WebhookService } from './webhook.service';

/**
 * Turns presence events into webhook events: `presence.joined` / `presence.left` for a user's first / last
 * connection in a room, `room.occupied` / `room.vacated` for the room's first member in / last member out.
 * Listens on the EventBus (nothing in presence knows about webhooks); without WEBHOOK_URL it does not listen.
 */
@Injectable()
export class PresenceWebhooks {
  private readonly logger = new Logger(PresenceWebhooks.name);

  constructor(
    private readonly webhooks: WebhookService,
    private readonly presence: PresenceStore,
    bus: EventBus,
  ) {
    if (!webhooks.enabled) return;
    bus.on('presence.joined', (event) => this.joined(event));
    bus.on('presence.left', ({ room, userId }) => this.left(room, userId));
  }

  /** The user's first connection joined `room`. */
  async joined({ room, userId, name }: HubbubEventMap['presence.joined']): Promise<void> {
    const events: LifecycleEvent[] = [];
    // Opened by the room's earliest member (normally: its only one). Two users joining an empty room at
    // the same time both see each other, and exactly one of them is the earliest.
    if ((await this.members(room))?.[0]?.userId === userId) {
      events.push({ type: 'room.occupied', data: { room } });
    }
    events.push({
      type: 'presence.joined',
      data: name === undefined ? { room, userId } : { room, userId, name },
    });
    await this.webhooks.emitAll(events);
  }

  /** The user has no connection left in `room` (left, closed, or its instance died). */
  async left(room: string, userId: string): Promise<void> {
    const events: LifecycleEvent[] = [{ type: 'presence.left', data: { room, userId } }];
    if ((await this.members(room))?.length === 0)
      events.push({ type: 'room.vacated', data: { room } });
    await this.webhooks.emitAll(events);
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
