import { BatchPacer } from './batch-pacer';

/** A batch that takes about `ms` of the event loop (busy: what a synchronous store write does). */
const busy = (ms: number) => (): Promise<void> => {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return Promise.resolve();
};

describe('BatchPacer', () => {
  it('starts at the largest size and shrinks batches that take longer than the target', async () => {
    const pacer = new BatchPacer(500, 8, 10);
    expect(pacer.size).toBe(500);
    await pacer.run(busy(40));
    expect(pacer.size).toBeLessThan(500);
    for (let i = 0; i < 12; i++) await pacer.run(busy(40));
    expect(pacer.size).toBe(10);
  });

  it('grows quick batches back, never past the largest size', async () => {
    const pacer = new BatchPacer(500, 8, 10);
    await pacer.run(busy(80));
    const small = pacer.size;
    for (let i = 0; i < 10; i++) await pacer.run(() => Promise.resolve());
    expect(pacer.size).toBeGreaterThan(small);
    expect(pacer.size).toBe(500);
  });

  it('hands the batch its size and returns what it returned', async () => {
    const pacer = new BatchPacer(300);
    expect(await pacer.run((size) => Promise.resolve(size * 2))).toBe(600);
  });
});
