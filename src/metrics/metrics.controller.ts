import { Controller, Get, Header } from '@nestjs/common';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
