import type { Provider } from '@nestjs/common';
import { NotifyWebhooks } from './notify-webhooks';
import { PresenceWebhooks } from './presence-webhooks';
import { WebhookService } from './webhook.service';

/** Webhooks: the dispatcher, and the reactions that turn presence and chat events into lifecycle webhooks. */
export const webhookProviders: Provider[] = [WebhookService, PresenceWebhooks, NotifyWebhooks];
