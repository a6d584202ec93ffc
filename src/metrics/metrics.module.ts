import { Module } from '@nestjs/common';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { MetricsService } from './metrics.service';

/**
 * The metrics: counters read at scrape time, served by `GET /metrics` when the option enables it (HTTP surfaces).
 * (The histograms' Observations seam is HubbubModule's.)
 */
@Module({
  imports: [TransportModule, FanoutModule, WebhooksModule],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
