import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { EventPriority, OnEvent } from '../events/on-event';
import type { HubbubEventMap } from '../events/event-map';
import { ConnectionQuota } from '../quota/connection-quota';
import type { LifecycleEvent } from '../store/webhook-outbox';
import { WebhookService } from './webhook.service';

/**
 * `message.notify {userId, room, message, reason}` for each user a new message names (mentioned, or a dm's
 * recipient) who has no live connection anywhere in the cluster: the hook teams use for mobile push.
 *
 * Exactly once per (message, user): `chat.notify` is emitted only on the instance that committed the message, which
 * alone decides, asking the cluster-wide connection count (ConnectionQuota: Redis in cluster mode); the event's id
 * derives from the message id and the user, so a repeated write of it is dropped by the outbox. A user who connects
 * while it is decided may still get one (the count said nobody was there).
 */
@Injectable()
export class NotifyWebhooks {
  private readonly logger = new Logger(NotifyWebhooks.name);

  constructor(
    private readonly webhooks: WebhookService,
    private readonly quota: ConnectionQuota,
  ) {}

  @OnEvent({ name: 'chat.notify', priority: EventPriority.Reaction })
  async notify({ message, recipients }: HubbubEventMap['chat.notify']): Promise<void> {
    if (!this.webhooks.enabled) return;
    const offline = await Promise.all(
      recipients.map(async ({ userId }) => {
        try {
          return (await this.quota.userConnections(userId)) === 0;
        } catch (err) {
          // Unknown: rather one push too many than a missed one.
          this.logger.warn(`connections of ${userId} unknown, message.notify sent: ${String(err)}`);
          return true;
        }
      }),
    );
    const events: LifecycleEvent[] = recipients
      .filter((_, i) => offline[i])
      .map(({ userId, reason }) => ({
        type: 'message.notify',
        id: notifyId(message.id, userId),
        data: { userId, room: message.room, message, reason },
      }));
    await this.webhooks.emitAll(events, message.ts);
  }
}

/** A UUID from (hashing) the message id and the user: the same for whoever reports it again. */
function notifyId(messageId: string, userId: string): string {
  const b = createHash('sha256').update(`hubbub/notify/${messageId}/${userId}`).digest();
  b[6] = (b[6] & 0x0f) | 0x40; // laid out as version 4, so receivers that check the format accept it
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
