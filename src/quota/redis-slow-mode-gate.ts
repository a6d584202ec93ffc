import type { Redis } from 'ioredis';
import { RedisKeys } from '../cluster/redis-keys';
import { SlowModeGate } from './slow-mode-gate';

/** Slow mode shared by the cluster: one key per (room, user) with a TTL of the interval, set only if absent. */
export class RedisSlowModeGate extends SlowModeGate {
  constructor(private readonly redis: Redis) {
    super();
  }

  async take(room: string, userId: string, intervalMs: number): Promise<number> {
    const key = RedisKeys.slowMode(room, userId);
    const set = await this.redis.set(key, '1', 'PX', intervalMs, 'NX');
    if (set === 'OK') return 0;
    const left = await this.redis.pttl(key);
    // Expired between the two calls (-2) or no TTL (cannot happen): one more try next time, not a refusal now.
    return left > 0 ? left : 1;
  }

  async release(room: string, userId: string): Promise<void> {
    await this.redis.del(RedisKeys.slowMode(room, userId));
  }
}
