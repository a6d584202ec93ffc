import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Sizes and paces batches of store work (a retention purge, an erasure) so that none holds the event loop long:
 * the size adapts to what a batch took (a store's cost per row varies with its indexes, full-text ones above all,
 * and with the machine), and after each batch the loop is left to everyone else for a quarter as long as the
 * batch held it (at most 50 ms). The target (20 ms) includes the commit's fsync, which a smaller batch pays as
 * often for less work.
 */
export class BatchPacer {
  private current: number;

  constructor(
    private readonly max: number,
    private readonly targetMs = 20,
    private readonly min = 10,
  ) {
    this.current = max;
  }

  /** The size the next batch should have. */
  get size(): number {
    return this.current;
  }

  /** Runs one batch of `size` rows, then adapts the size and pauses. */
  async run<T>(batch: (size: number) => Promise<T>): Promise<T> {
    const size = this.current;
    const t0 = performance.now();
    const result = await batch(size);
    const ms = Math.max(0.1, performance.now() - t0);
    const fit = (size * this.targetMs) / ms;
    this.current = Math.min(this.max, Math.max(this.min, Math.round((size + fit) / 2)));
    await sleep(Math.min(ms / 4, 50));
    return result;
  }
}
