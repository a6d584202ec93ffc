import type { Provider } from '@nestjs/common';
import { ModerationWebhooks } from './moderation-webhooks';
import { PresenceWebhooks } from './presence-webhooks';
import { WebhookService } from './webhook.service';

/** Webhooks: the dispatcher, and the reaction that turns presence events into lifecycle webhooks. */
export const webhookProviders: Provider[] = [WebhookService, PresenceWebhooks, ModerationWebhooks];
