import type { Connection } from './connection';
import { RateLimiter } from './rate-limiter';

const bucket = (burst: number, now: number): Connection =>
  ({ tokens: burst, lastRefill: now, refusedCount: 0, refusedWindowStart: 0 }) as Connection;

describe('RateLimiter', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const limiter = new RateLimiter(2, 3);
    const conn = bucket(3, 0);
    expect([0, 0, 0, 0].map((t) => limiter.take(conn, t))).toEqual([true, true, true, false]);
    expect(limiter.retryAfterMs(conn)).toBe(500);
    expect(limiter.take(conn, 499)).toBe(false);
    expect(limiter.take(conn, 1000)).toBe(true);
  });

  it('never stores more than the burst however long the connection was idle', () => {
    const limiter = new RateLimiter(10, 2);
    const conn = bucket(2, 0);
    limiter.take(conn, 3_600_000);
    expect(conn.tokens).toBe(1);
  });

  it('reports flooding once more than burst messages were refused within 10 s', () => {
    const limiter = new RateLimiter(1, 3);
    const conn = bucket(0, 0);
    expect([1, 2, 3].map((t) => limiter.refuse(conn, t))).toEqual([false, false, false]);
    expect(limiter.refuse(conn, 4)).toBe(true);
    const calm = bucket(0, 0);
    [1, 2, 3].forEach((t) => limiter.refuse(calm, t));
    expect(limiter.refuse(calm, 20_000)).toBe(false); // a new 10 s window
  });
});
