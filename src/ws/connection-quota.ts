import { Injectable } from '@nestjs/common';

/**
 * Counts connections per user against MAX_CONNECTIONS_PER_USER. The in-process twin counts this instance;
 * the Redis twin counts the cluster. A slot is acquired before the upgrade and released on close.
 */
export abstract class ConnectionQuota {
  abstract acquire(userId: string, max: number): Promise<boolean>;
  abstract release(userId: string): Promise<void>;
  /** Connections in the whole cluster (this instance alone without Redis). */
  abstract totalConnections(): Promise<number>;
  /** One user's connections in the whole cluster (this instance alone without Redis). */
  abstract userConnections(userId: string): Promise<number>;
}

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

  /** userId → connections held, for writing them to a shared store. */
  counts(): ReadonlyMap<string, number> {
    return this.perUser;
  }
}
