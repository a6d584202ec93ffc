import { Injectable } from '@nestjs/common';
import type { HubbubEventMap } from '../events/event-map';
import { EventPriority, OnEvent } from '../events/on-event';
import { WebhookService } from './webhook.service';

/**
 * `user.erased {userId}` once a person's data is erased. The event's id is the erasure's, so an erasure resumed
 * after a crash sends the same id (the outbox drops a repeat it still holds; a receiver drops one by id).
 */
@Injectable()
export class PrivacyWebhooks {
  constructor(private readonly webhooks: WebhookService) {}

  @OnEvent({ name: 'user.erased', priority: EventPriority.Reaction })
  async erased({ userId, id, at }: HubbubEventMap['user.erased']): Promise<void> {
    await this.webhooks.emitAll([{ type: 'user.erased', data: { userId }, id }], at, userId);
  }
}
