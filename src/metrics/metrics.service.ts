import { Injectable } from '@nestjs/common';
import { ClientRegistry } from '../ws/client-registry.service';
import { FrameRouter } from '../ws/frame-router';
import { OutboundWriter } from '../ws/outbound-writer';

/**
 * Prometheus text. The transport keeps its counters as plain numbers on the hot path; they are read here,
 * only when scraped, so metrics cost nothing between scrapes and nothing below imports metrics.
 */
@Injectable()
export class MetricsService {
  constructor(
    private readonly registry: ClientRegistry,
    private readonly router: FrameRouter,
    private readonly writer: OutboundWriter,
  ) {}

  render(): string {
    const lines = [
      '# HELP hubbub_connections Open WebSocket connections on this instance.',
      '# TYPE hubbub_connections gauge',
      `hubbub_connections ${this.registry.size}`,
      '# HELP hubbub_messages_received_total Client messages received.',
      '# TYPE hubbub_messages_received_total counter',
      `hubbub_messages_received_total ${this.router.received}`,
      '# HELP hubbub_messages_sent_total Frames written to clients (replies, pushes and errors).',
      '# TYPE hubbub_messages_sent_total counter',
      `hubbub_messages_sent_total ${this.writer.framesSent}`,
      '# HELP hubbub_errors_total Error frames sent to clients, by code (every code listed from the start).',
      '# TYPE hubbub_errors_total counter',
    ];
    for (const [code, n] of this.router.errors)
      lines.push(`hubbub_errors_total{code="${code}"} ${n}`);
    return lines.join('\n') + '\n';
  }
}
