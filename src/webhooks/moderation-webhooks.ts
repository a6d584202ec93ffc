import { Injectable } from '@nestjs/common';
import type { HubbubEventMap } from '../events/event-map';
import { EventPriority, OnEvent } from '../events/on-event';
import { WebhookService } from './webhook.service';

/**
 * Turns each recorded moderation action into the webhook `room.moderated {room, action, userId, by, until?}`,
 * through the durable outbox.
 * The event is emitted only by the instance that recorded the action: one webhook per action in the cluster.
 */
@Injectable()
export class ModerationWebhooks {
  constructor(private readonly webhooks: WebhookService) {}

  @OnEvent({ name: 'room.moderated', priority: EventPriority.Reaction })
  async moderated({ ts, ...data }: HubbubEventMap['room.moderated']): Promise<void> {
    await this.webhooks.emit('room.moderated', data, ts);
  }
}
