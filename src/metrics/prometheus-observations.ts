import { Injectable } from '@nestjs/common';
import { Histogram, Registry } from 'prom-client';
import { Observations } from '../common/observations';

/**
 * The histograms of the hot path, fed through the Observations seam (requests, chat appends, fan-out sizes), in
 * this app's registry. Owns the registry so that it depends on nothing: MetricsService adds the counters to it.
 */
@Injectable()
export class PrometheusObservations extends Observations {
  readonly registry = new Registry();
  private readonly requestDuration: Histogram<'event'>;
  private readonly requestChildren = new Map<string, Histogram.Internal<'event'>>();
  private readonly chatAppendDuration: Histogram;
  private readonly fanoutRecipients: Histogram;

  constructor() {
    super();
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: 'hubbub_request_duration_seconds',
      help: 'Time from a routed client request to its reply or error, by event.',
      labelNames: ['event'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.chatAppendDuration = new Histogram({
      name: 'hubbub_chat_append_duration_seconds',
      help: 'Time to store one chat message durably (the store commit a chat.send waits for).',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    this.fanoutRecipients = new Histogram({
      name: 'hubbub_fanout_recipients',
      help: 'Local connections one push was written to on this instance.',
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      registers,
    });
  }

  request(event: string, seconds: number): void {
    // One labelled child per routed event (a bounded set), so an observation does not hash its labels again.
    let child = this.requestChildren.get(event);
    if (!child) this.requestChildren.set(event, (child = this.requestDuration.labels({ event })));
    child.observe(seconds);
  }

  chatAppend(seconds: number): void {
    this.chatAppendDuration.observe(seconds);
  }

  fanout(recipients: number): void {
    this.fanoutRecipients.observe(recipients);
  }
}
