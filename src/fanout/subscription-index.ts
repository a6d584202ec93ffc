import { Injectable } from '@nestjs/common';
import { Broker } from '../broker/broker';
import { HubbubError } from '../protocol/errors';
import type { Connection } from '../ws/connection';

/**
 * Topic to local connections. The first local subscriber of a topic tells the broker this instance is
 * interested, the last one withdraws that interest, so an instance only receives what it can deliver.
 */
@Injectable()
export class SubscriptionIndex {
  private readonly topics = new Map<string, Set<Connection>>();

  constructor(private readonly broker: Broker) {}

  /** Returns false when the connection already had it. */
  add(topic: string, conn: Connection): boolean {
    let set = this.topics.get(topic);
    if (!set) {
      this.topics.set(topic, (set = new Set()));
      this.broker.interest(topic, true);
    }
    if (set.has(conn)) return false;
    set.add(conn);
    return true;
  }

  /** Returns false when the connection did not have it. */
  remove(topic: string, conn: Connection): boolean {
    const set = this.topics.get(topic);
    if (!set?.delete(conn)) return false;
    if (set.size === 0) {
      this.topics.delete(topic);
      this.broker.interest(topic, false);
    }
    return true;
  }

  get(topic: string): ReadonlySet<Connection> | undefined {
    return this.topics.get(topic);
  }

  /** Number of topics with a prefix that have local subscribers (TOPIC_PREFIX.room, say). */
  count(prefix: string): number {
    let n = 0;
    for (const key of this.topics.keys()) if (key.startsWith(prefix)) n++;
    return n;
  }
}

/** Rooms plus channels one connection may hold (MAX_SUBSCRIPTIONS): `limit_exceeded` when it holds that many. */
export function assertSubscriptionSlot(conn: Connection, max: number): void {
  if (conn.subscriptionCount() >= max) {
    throw new HubbubError('limit_exceeded', `At most ${max} rooms and channels per connection`);
  }
}
