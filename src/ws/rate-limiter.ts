import type { Connection } from './connection';

/** Per-connection token bucket, refilled lazily on each message: no timer per connection. */
export class RateLimiter {
  constructor(
    private readonly perSec: number,
    private readonly burst: number,
  ) {}

  /** Takes a token; false when the bucket is empty. */
  take(conn: Connection, now: number): boolean {
    const elapsed = now - conn.lastRefill;
    if (elapsed > 0) {
      conn.tokens = Math.min(this.burst, conn.tokens + (elapsed * this.perSec) / 1000);
      conn.lastRefill = now;
    }
    if (conn.tokens >= 1) {
      conn.tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Takes `n` more tokens (a request that costs more than one, its first already taken); false when short. A
   * bucket smaller than the cost is charged all it can hold, so that the request stays possible.
   */
  takeMore(conn: Connection, n: number): boolean {
    n = Math.min(n, this.burst - 1);
    if (conn.tokens < n) return false;
    conn.tokens -= n;
    return true;
  }

  /** Milliseconds until `need` tokens (default the next one) are in the bucket. */
  retryAfterMs(conn: Connection, need = 1): number {
    need = Math.min(need, this.burst);
    return Math.max(1, Math.ceil(((need - conn.tokens) * 1000) / this.perSec));
  }

  /** Counts a refused message; true when the connection refused more than `burst` in 10 s (flooding). */
  refuse(conn: Connection, now: number): boolean {
    if (now - conn.refusedWindowStart > 10_000) {
      conn.refusedWindowStart = now;
      conn.refusedCount = 0;
    }
    conn.refusedCount++;
    return conn.refusedCount > this.burst;
  }
}
