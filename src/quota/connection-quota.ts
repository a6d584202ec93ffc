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
  /** Removes every count of a dead instance from the shared state (NodeLiveness, on the instance that reaps it). */
  abstract dropNode(node: string): Promise<void>;
  /** Writes this instance's counts again after the shared state lost them (see Broker.restore); idempotent. */
  restore(): Promise<void> {
    return Promise.resolve();
  }
}
