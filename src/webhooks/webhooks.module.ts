import { Module } from '@nestjs/common';
import { WebhookService } from './webhook.service';
import { webhookProviders } from './webhook.providers';

/** Webhooks: the dispatcher of the outbox, and the lifecycle webhooks of presence events. */
@Module({
  providers: webhookProviders,
  exports: [WebhookService],
})
export class WebhooksModule {}
