import { Inject, Injectable } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { EventPriority, OnEvent } from '../events/on-event';
import type { ConnectionEvent } from '../ws/connection-events';
import { assertSubscriptionSlot, SubscriptionIndex } from '../fanout/subscription-index';
import { HubbubError } from '../protocol/errors';
import { roomTopic } from '../protocol/topics';
import type { Connection } from '../ws/connection';

/** Which local connections are in which room, and the per-connection subscription limit. */
@Injectable()
export class RoomService {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly index: SubscriptionIndex,
  ) {}

  @OnEvent({ name: 'connection.closed', priority: EventPriority.Local })
  closed({ conn }: ConnectionEvent): void {
    for (const room of conn.rooms) this.index.remove(topic(room), conn);
    if (conn.rooms.size > 0) conn.joinedRooms().clear();
  }

  /**
   * Runs the connection's room operations (joins, leaves, the leaves after `auth.refresh`) one after another, in
   * the order they were asked, so that none acts on a state another one is halfway through changing (a leave
   * overtaking its join left a ghost in presence). The chain exists only while operations are queued: a
   * connection that is not joining or leaving holds none, and the first operation starts at once.
   */
  serialize<T>(conn: Connection, op: () => Promise<T>): Promise<T> {
    const before = conn.roomOps;
    const run = before ? before.then(op) : op();
    const tail = run.then(noop, noop);
    conn.roomOps = tail;
    void tail.then(() => {
      if (conn.roomOps === tail) conn.roomOps = null;
    });
    return run;
  }

  /**
   * Returns false when the connection was already joined, or has closed (its cleanup ran: nothing may be added
   * after it). Throws limit_exceeded past MAX_SUBSCRIPTIONS.
   */
  join(conn: Connection, room: string): boolean {
    if (conn.closed || conn.rooms.has(room)) return false;
    assertSubscriptionSlot(conn, this.config.maxSubscriptions);
    conn.joinedRooms().add(room);
    this.index.add(topic(room), conn);
    return true;
  }

  /** Returns false when the connection was not joined. */
  leave(conn: Connection, room: string): boolean {
    if (!conn.rooms.has(room)) return false;
    conn.joinedRooms().delete(room);
    this.index.remove(topic(room), conn);
    return true;
  }

  assertJoined(conn: Connection, room: string): void {
    if (!conn.rooms.has(room)) throw new HubbubError('not_joined', `Not joined to room "${room}"`);
  }
}

const topic = roomTopic;

const noop = (): void => undefined;
