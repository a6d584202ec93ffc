import { Injectable } from '@nestjs/common';
import { Broker } from '../broker/broker';
import { userTopic } from '../protocol/topics';
import type { Connection } from './connection';

/** The connections of this instance, by id and by user. */
@Injectable()
export class ClientRegistry {
  private readonly byId = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();

  /** The broker routes user-topic pushes to the instances that hold that user's connections. */
  constructor(private readonly broker: Broker) {}

  add(conn: Connection): void {
    this.byId.set(conn.id, conn);
    let set = this.byUser.get(conn.userId);
    if (!set) {
      this.byUser.set(conn.userId, (set = new Set()));
      this.broker.interest(userTopic(conn.userId), true);
    }
    set.add(conn);
  }

  /** Returns false when the connection was not (or no longer) registered. */
  remove(conn: Connection): boolean {
    if (!this.byId.delete(conn.id)) return false;
    const set = this.byUser.get(conn.userId);
    if (set) {
      set.delete(conn);
      if (set.size === 0) {
        this.byUser.delete(conn.userId);
        this.broker.interest(userTopic(conn.userId), false);
      }
    }
    return true;
  }

  get(id: string): Connection | undefined {
    return this.byId.get(id);
  }

  forUser(userId: string): ReadonlySet<Connection> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  all(): IterableIterator<Connection> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }
}

const EMPTY: ReadonlySet<Connection> = new Set();
