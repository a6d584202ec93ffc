import { Injectable } from '@nestjs/common';
import { ERROR_CODES, type ErrorCode } from '../protocol/errors';

/** Counters for Prometheus. Plain numbers on the hot path; the text is built only when scraped. */
@Injectable()
export class MetricsService {
  messagesReceived = 0;
  messagesSent = 0;
  /** Every code from the start, at 0: a scraper sees the whole series family before the first error. */
  readonly errors = new Map<ErrorCode, number>(ERROR_CODES.map((code) => [code, 0]));
  /** Supplies the connection gauge at scrape time. */
  connections: () => number = () => 0;

  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  render(framesSent: number): string {
    const lines = [
      '# HELP hubbub_connections Open WebSocket connections on this instance.',
      '# TYPE hubbub_connections gauge',
      `hubbub_connections ${this.connections()}`,
      '# HELP hubbub_messages_received_total Client messages received.',
      '# TYPE hubbub_messages_received_total counter',
      `hubbub_messages_received_total ${this.messagesReceived}`,
      '# HELP hubbub_messages_sent_total Frames written to clients (replies, pushes and errors).',
      '# TYPE hubbub_messages_sent_total counter',
      `hubbub_messages_sent_total ${framesSent}`,
      '# HELP hubbub_errors_total Error frames sent to clients, by code.',
      '# TYPE hubbub_errors_total counter',
    ];
    for (const [code, n] of this.errors) lines.push(`hubbub_errors_total{code="${code}"} ${n}`);
    return lines.join('\n') + '\n';
  }
}
