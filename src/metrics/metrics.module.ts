import { Module } from '@nestjs/common';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** `GET /metrics`: the counters read at scrape time. (The histograms' Observations seam is HubbubModule's.) */
@Module({
  imports: [TransportModule, FanoutModule, WebhooksModule],
  controllers: [MetricsController],
  providers: [MetricsService],
})
export class MetricsModule {}
