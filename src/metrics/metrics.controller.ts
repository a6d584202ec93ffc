import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';
import { ThrottlerGuard } from '@nestjs/throttler';

@Controller('metrics')
@UseGuards(ThrottlerGuard, MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
