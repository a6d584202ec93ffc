/**
 * Things that end at a time, kept in per-second buckets so that a sweep looks only at the buckets that came due
 * (never at everything tracked) and no timer is armed per thing. The session-expiry sweep uses one for connection
 * tokens and one for subscription tokens.
 */
export class ExpiryBuckets<T> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly bucketOf = new Map<T, number>();
  private lastSecond = Math.floor(Date.now() / 1000) - 1;

  /** (Re)schedules `item` at `expiresAt` (ms since epoch). */
  track(item: T, expiresAt: number): void {
    this.untrack(item);
    const second = Math.floor(expiresAt / 1000);
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(item);
    this.bucketOf.set(item, second);
  }

  untrack(item: T): void {
    const second = this.bucketOf.get(item);
    if (second === undefined) return;
    this.bucketOf.delete(item);
    const bucket = this.buckets.get(second);
    bucket?.delete(item);
    if (bucket?.size === 0) this.buckets.delete(second);
  }

  /**
   * Untracks and hands to `expire` every item of the buckets that came due whose own expiry (`expiresAt(item)`)
   * has passed; items later in the current second stay for the next sweeps.
   */
  sweep(now: number, expiresAt: (item: T) => number, expire: (item: T) => void): void {
    const current = Math.floor(now / 1000);
    for (let second = this.lastSecond; second <= current; second++) {
      const bucket = this.buckets.get(second);
      if (!bucket) continue;
      for (const item of [...bucket]) {
        if (expiresAt(item) > now) continue;
        this.untrack(item);
        expire(item);
      }
    }
    // Keep the current second: items expiring later in it are picked up by the next sweeps.
    this.lastSecond = current;
  }
}
