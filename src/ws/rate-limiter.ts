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

  /** Milliseconds until the next token. */
  retryAfterMs(conn: Connection): number {
    return Math.max(1, Math.ceil(((1 - conn.tokens) * 1000) / this.perSec));
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
