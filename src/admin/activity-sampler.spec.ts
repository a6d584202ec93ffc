import { ClientRegistry } from '../ws/client-registry.service';
import type { FrameRouter } from '../ws/frame-router';
import { OutboundWriter } from '../ws/outbound-writer';
import { ActivitySampler, mergeSamples, WINDOW_SAMPLES } from './activity-sampler';

describe('ActivitySampler', () => {
  const setup = () => {
    const metrics = { received: 0 } as FrameRouter;
    const writer = { framesSent: 0 } as OutboundWriter;
    const registry = { size: 3 } as ClientRegistry;
    return { metrics, writer, sampler: new ActivitySampler(registry, metrics, writer) };
  };

  it('turns counter deltas into per-second rates in 5 s buckets aligned to the clock', () => {
    const { metrics, writer, sampler } = setup();
    sampler.sample(10_000);
    metrics.received += 50;
    writer.framesSent += 100;
    sampler.sample(15_000);
    expect(sampler.samples()).toEqual([
      { ts: 10_000, connections: 3, inPerSec: 0, outPerSec: 0 },
      { ts: 15_000, connections: 3, inPerSec: 10, outPerSec: 20 },
    ]);
  });

  it('keeps 15 minutes of buckets', () => {
    const { sampler } = setup();
    for (let i = 0; i < WINDOW_SAMPLES + 10; i++) sampler.sample(i * 5000);
    const samples = sampler.samples();
    expect(samples).toHaveLength(180);
    expect(samples[0].ts).toBe(10 * 5000);
  });
});

describe('mergeSamples', () => {
  it('sums the instances bucket by bucket, oldest first', () => {
    const s = (ts: number, connections: number, inPerSec: number, outPerSec: number) => ({
      ts,
      connections,
      inPerSec,
      outPerSec,
    });
    expect(mergeSamples([[s(5000, 1, 0.1, 1)], [s(0, 4, 0, 0), s(5000, 2, 0.2, 3)]])).toEqual([
      s(0, 4, 0, 0),
      s(5000, 3, 0.3, 4),
    ]);
  });
});
