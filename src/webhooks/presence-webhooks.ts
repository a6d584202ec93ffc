import { Injectable, Logger } from '@nestjs/common';
import { type Member, PresenceStore } from '../presence/store/presence-store';
import { type LifecycleEvent, WebhookService } from './webhook.service';

/**
 * Turns presence changes into webhook events: `presence.joined` / `presence.left` for a user's first / last
 * connection in a room, `room.occupied` / `room.vacated` for the room's first member in / last member out.
 * PresenceService calls it; every method is a no-op without WEBHOOK_URL and never rejects.
 */
@Injectable()
export class PresenceWebhooks {
  private readonly logger = new Logger(PresenceWebhooks.name);

  constructor(
    private readonly webhooks: WebhookService,
    private readonly presence: PresenceStore,
  ) {}

  /** The user's first connection joined `room`; `member` is the member as it now is. */
  async joined(room: string, member: Member): Promise<void> {
    if (!this.webhooks.enabled) return;
    const { userId, name } = member;
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
    if (!this.webhooks.enabled) return;
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
