import type { Provider } from '@nestjs/common';
import { ModerationWebhooks } from './moderation-webhooks';
import { NotifyWebhooks } from './notify-webhooks';
import { PresenceWebhooks } from './presence-webhooks';
import { PrivacyWebhooks } from './privacy-webhooks';
import { WebhookService } from './webhook.service';

/** Webhooks: the dispatcher, and the reactions that turn presence, chat, moderation and privacy events into webhooks. */
export const webhookProviders: Provider[] = [
  WebhookService,
  PresenceWebhooks,
  NotifyWebhooks,
  ModerationWebhooks,
  PrivacyWebhooks,
];
