import type { Provider } from '@nestjs/common';
import { ModerationWebhooks } from './moderation-webhooks';
import { NotifyWebhooks } from './notify-webhooks';
import { PresenceWebhooks } from './presence-webhooks';
import { WebhookService } from './webhook.service';

/** Webhooks: the dispatcher, and the reactions that turn presence, chat and moderation events into lifecycle webhooks. */
export const webhookProviders: Provider[] = [
  WebhookService,
  PresenceWebhooks,
  NotifyWebhooks,
  ModerationWebhooks,
];
