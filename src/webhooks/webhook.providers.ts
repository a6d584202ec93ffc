import type { Provider } from '@nestjs/common';
import { MessageStore } from '../store/message-store';
import { WebhookOutbox } from '../store/webhook-outbox';
import { PresenceWebhooks } from './presence-webhooks';
import { WebhookService } from './webhook.service';

/** Webhooks: the outbox is the message store itself (both SQL stores implement WebhookOutbox). */
export const webhookProviders: Provider[] = [
  { provide: WebhookOutbox, useExisting: MessageStore },
  WebhookService,
  PresenceWebhooks,
];
