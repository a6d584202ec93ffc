import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ClientRegistry } from '../ws/client-registry.service';
import { FrameRouter } from '../ws/frame-router';
import { OutboundWriter } from '../ws/outbound-writer';

/** One bucket of activity: `ts` is the bucket's start (a multiple of SAMPLE_MS), counts are per second. */
export interface ActivitySample {
  ts: number;
  connections: number;
  /** Client messages received per second. */
  inPerSec: number;
  /** Frames written to clients per second. */
  outPerSec: number;
}

export const SAMPLE_MS = 5000;
/** 15 minutes of buckets. */
export const WINDOW_SAMPLES = (15 * 60 * 1000) / SAMPLE_MS;

/**
 * This instance's activity over the last 15 minutes, one bucket every 5 s, for the dashboard's charts. Reads the
 * counters the metrics already keep (nothing added on the hot path); one timer per instance. Buckets are aligned
 * to wall-clock multiples of SAMPLE_MS so that the instances of a cluster can be summed bucket by bucket.
 */
@Injectable()
export class ActivitySampler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly buckets: ActivitySample[] = [];
  private timer?: NodeJS.Timeout;
  private last?: { at: number; received: number; sent: number };

  constructor(
    private readonly registry: ClientRegistry,
    private readonly router: FrameRouter,
    private readonly writer: OutboundWriter,
  ) {}

  onApplicationBootstrap(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Oldest first; the open bucket shows the connections open now. */
  samples(now = Date.now()): ActivitySample[] {
    const open = this.buckets[this.buckets.length - 1];
    if (open && open.ts === Math.floor(now / SAMPLE_MS) * SAMPLE_MS)
      open.connections = this.registry.size;
    return this.buckets.map((b) => ({ ...b }));
  }

  /** Rates since the previous sample, in the bucket of `now`. Public for the unit test's clock. */
  sample(now = Date.now()): void {
    const received = this.router.received;
    const sent = this.writer.framesSent;
    const prev = this.last ?? { at: now, received, sent };
    this.last = { at: now, received, sent };
    const seconds = Math.max(1, now - prev.at) / 1000;
    const rate = (delta: number): number => Math.round((delta / seconds) * 100) / 100;
    const sample: ActivitySample = {
      ts: Math.floor(now / SAMPLE_MS) * SAMPLE_MS,
      connections: this.registry.size,
      inPerSec: rate(received - prev.received),
      outPerSec: rate(sent - prev.sent),
    };
    const n = this.buckets.length;
    if (n > 0 && this.buckets[n - 1].ts === sample.ts) this.buckets[n - 1] = sample;
    else this.buckets.push(sample);
    while (this.buckets.length > WINDOW_SAMPLES) this.buckets.shift();
  }
}

/** Sums the instances' series bucket by bucket (connections and rates add up across a cluster). */
export function mergeSamples(series: ActivitySample[][]): ActivitySample[] {
  const byTs = new Map<number, ActivitySample>();
  for (const samples of series) {
    for (const s of samples) {
      const sum = byTs.get(s.ts);
      if (!sum) byTs.set(s.ts, { ...s });
      else {
        sum.connections += s.connections;
        sum.inPerSec = Math.round((sum.inPerSec + s.inPerSec) * 100) / 100;
        sum.outPerSec = Math.round((sum.outPerSec + s.outPerSec) * 100) / 100;
      }
    }
  }
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}
