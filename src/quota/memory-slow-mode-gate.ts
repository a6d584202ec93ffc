import { MAX_SLOW_MODE_ENTRIES, SlowModeGate } from './slow-mode-gate';

/** One instance's slow mode: a Map (insertion order = age) of (room, user) → when the next send is allowed. */
export class MemorySlowModeGate extends SlowModeGate {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxEntries = MAX_SLOW_MODE_ENTRIES) {
    super();
  }

  take(room: string, userId: string, intervalMs: number): Promise<number> {
    const key = `${room}\n${userId}`;
    const now = Date.now();
    const next = this.until.get(key);
    if (next !== undefined && next > now) return Promise.resolve(next - now);
    this.until.delete(key);
    if (this.until.size >= this.maxEntries) this.prune(now);
    this.until.set(key, now + intervalMs);
    return Promise.resolve(0);
  }

  release(room: string, userId: string): Promise<void> {
    this.until.delete(`${room}\n${userId}`);
    return Promise.resolve();
  }

  get size(): number {
    return this.until.size;
  }

  /** Drops the expired slots, then, while still full, the oldest. */
  private prune(now: number): void {
    for (const [key, next] of this.until) if (next <= now) this.until.delete(key);
    for (const key of this.until.keys()) {
      if (this.until.size < this.maxEntries) break;
      this.until.delete(key);
    }
  }
}
