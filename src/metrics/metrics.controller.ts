import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { OutboundWriter } from '../ws/outbound-writer';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';

@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly writer: OutboundWriter,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): string {
    return this.metrics.render(this.writer.framesSent);
  }
}
