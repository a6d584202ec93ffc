import { Injectable } from '@nestjs/common';
import { ConnectionQuota } from './connection-quota';

/** This instance's connections per user; the Redis twin also keeps one as its fallback during outages. */
@Injectable()
export class MemoryConnectionQuota extends ConnectionQuota {
  private readonly perUser = new Map<string, number>();
  private total = 0;

  acquire(userId: string, max: number): Promise<boolean> {
    const n = this.perUser.get(userId) ?? 0;
    if (n >= max) return Promise.resolve(false);
    this.perUser.set(userId, n + 1);
    this.total++;
    return Promise.resolve(true);
  }

  release(userId: string): Promise<void> {
    const n = this.perUser.get(userId) ?? 0;
    if (n <= 1) this.perUser.delete(userId);
    else this.perUser.set(userId, n - 1);
    if (n > 0) this.total--;
    return Promise.resolve();
  }

  totalConnections(): Promise<number> {
    return Promise.resolve(this.total);
  }

  userConnections(userId: string): Promise<number> {
    return Promise.resolve(this.perUser.get(userId) ?? 0);
  }

  dropNode(): Promise<void> {
    return Promise.resolve(); // counts only this instance
  }

  /** userId → connections held, for writing them to a shared store. */
  counts(): ReadonlyMap<string, number> {
    return this.perUser;
  }
}
