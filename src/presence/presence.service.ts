import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { EventPriority, OnEvent } from '../events/on-event';
import type { ConnectionEvent } from '../ws/connection-events';
import { PushService } from '../fanout/push.service';
import { EventBus } from '../events/event-bus';
import { ClientRegistry } from '../ws/client-registry.service';
import type { HubbubEventMap, PresenceTransition } from '../events/event-map';
import type { Connection } from '../ws/connection';
import { STATUS_COALESCE_MS, StatusCoalescer } from './status-coalescer';
import {
  PresenceStore,
  UnknownConnectionError,
  type ConnRef,
  type Member,
  type PresenceStatus,
  type Vacated,
} from './store/presence-store';

/**
 * Per-user presence in rooms: a user is a member while any of their connections (on any instance) is joined.
 * Pushes `presence.join` for a user's first connection in a room and `presence.leave` for the last one.
 */
@Injectable()
export class PresenceService implements OnModuleDestroy {
  private readonly logger = new Logger(PresenceService.name);
  private readonly updates = new StatusCoalescer(STATUS_COALESCE_MS, (changes) =>
    this.pushUpdates(changes),
  );

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly store: PresenceStore,
    private readonly push: PushService,
    private readonly bus: EventBus,
    private readonly registry: ClientRegistry,
  ) {}

  /** Cluster mode: a dead (or cleanly stopped) instance's users leave. */
  @OnEvent({ name: 'cluster.node-gone', priority: EventPriority.Shared })
  async nodeGone({ node }: HubbubEventMap['cluster.node-gone']): Promise<void> {
    await this.announceLeaves(await this.store.dropNode(node));
  }

  /** Cluster mode: after a Redis outage, or a reap of this instance, write ours again. */
  @OnEvent({ name: 'cluster.state-lost', priority: EventPriority.Shared })
  async stateLost({ reaped }: HubbubEventMap['cluster.state-lost']): Promise<void> {
    await this.resync(this.registry.all(), reaped);
  }

  @OnEvent({ name: 'connection.opened', priority: EventPriority.Shared })
  async opened({ conn }: ConnectionEvent): Promise<void> {
    await this.store.connect(this.ref(conn));
  }

  @OnEvent({ name: 'connection.closed', priority: EventPriority.Shared })
  async closed({ conn }: ConnectionEvent): Promise<void> {
    const vacated = await this.store.disconnect(this.ref(conn));
    await this.announceLeaves(vacated);
  }

  onModuleDestroy(): void {
    this.updates.stop();
  }

  /** Call after RoomService.join. Returns the member as it now is. */
  async join(conn: Connection, room: string): Promise<Member | undefined> {
    try {
      const { firstForUser, member, transition } = await this.store.join(room, this.ref(conn));
      if (firstForUser)
        await this.bus.emit('presence.joined', joinedEvent(room, member, transition));
      if (firstForUser) await this.push.toRoom(room, 'presence.join', { room, member }, conn);
      return member;
    } catch (err) {
      // The socket closed while the join was in flight: its disconnect already cleaned up.
      if (err instanceof UnknownConnectionError && conn.closed) return undefined;
      if (err instanceof UnknownConnectionError) throw err;
      // The shared store is unreachable (Redis down): the room join itself stands, and the resync after the
      // reconnect writes this membership.
      this.logger.warn(`presence of ${conn.id} in ${room} not recorded: ${String(err)}`);
      return undefined;
    }
  }

  async leave(conn: Connection, room: string): Promise<void> {
    try {
      const { lastForUser, transition } = await this.store.leave(room, this.ref(conn));
      if (lastForUser)
        await this.bus.emit('presence.left', { room, userId: conn.userId, transition });
      if (lastForUser)
        await this.push.toRoom(room, 'presence.leave', { room, userId: conn.userId });
    } catch (err) {
      this.logger.warn(`presence of ${conn.id} leaving ${room} not recorded: ${String(err)}`);
    }
  }

  /** The room's members; empty while the shared store is unreachable. */
  async members(room: string): Promise<Member[]> {
    try {
      return await this.store.members(room);
    } catch (err) {
      this.logger.warn(`members of ${room} unavailable: ${String(err)}`);
      return [];
    }
  }

  /**
   * Records the status at once (presence.list shows it); the `presence.update` pushes follow through the shared
   * coalescer: none when the status did not change, at most one per room per user per flush period.
   */
  async setStatus(conn: Connection, status: PresenceStatus): Promise<void> {
    conn.status = status;
    const rooms = await this.store.setStatus(conn.userId, status);
    if (rooms.length > 0) this.updates.add(conn.userId, rooms);
  }

  /** Pushes the current member record of each user whose status changed to each of their rooms. */
  private async pushUpdates(changes: Map<string, ReadonlySet<string>>): Promise<void> {
    await Promise.all(
      [...changes].flatMap(([userId, rooms]) =>
        [...rooms].map(async (room) => {
          try {
            const member = await this.store.member(room, userId);
            if (member) await this.push.toRoom(room, 'presence.update', { room, member });
          } catch (err) {
            this.logger.warn(`presence.update for ${userId} in ${room} not pushed: ${String(err)}`);
          }
        }),
      ),
    );
  }

  isOnline(userIds: string[]): Promise<Record<string, boolean>> {
    return this.store.isOnline(userIds);
  }

  /** Pushes `presence.leave` for rooms that users left entirely (closed sockets, a dead instance). */
  async announceLeaves(vacated: Vacated[]): Promise<void> {
    for (const { room, userId, transition } of vacated) {
      await this.bus.emit('presence.left', { room, userId, transition });
      try {
        await this.push.toRoom(room, 'presence.leave', { room, userId });
      } catch (err) {
        this.logger.warn(`presence.leave for ${room} not pushed: ${String(err)}`);
      }
    }
  }

  /**
   * After an outage of the shared store: replaces everything recorded for this instance with its live
   * connections (some may have closed while the store could not hear of it, or the store may have lost all
   * of it in a restart), then announces the users that are really gone. `reaped`: another instance took this
   * one for dead and announced its users' leaves, so their joins are announced again (the store tells which
   * joins are a user's first connection in the room).
   */
  async resync(conns: Iterable<Connection>, reaped = false): Promise<void> {
    const stale = await this.store.dropNode(this.config.nodeId);
    for (const conn of conns) {
      if (conn.closed) continue;
      await this.store.connect(this.ref(conn));
      // Before the joins, so that an announced member carries its status.
      if (conn.status !== 'online') await this.store.setStatus(conn.userId, conn.status);
      for (const room of conn.rooms) {
        const { firstForUser, member, transition } = await this.store.join(room, this.ref(conn));
        if (!reaped || !firstForUser) continue;
        await this.bus.emit('presence.joined', joinedEvent(room, member, transition));
        await this.push.toRoom(room, 'presence.join', { room, member });
      }
    }
    const gone = [];
    for (const pair of stale) {
      if (!(await this.store.member(pair.room, pair.userId))) gone.push(pair);
    }
    await this.announceLeaves(gone);
  }

  private ref(conn: Connection): ConnRef {
    return {
      connId: conn.id,
      userId: conn.userId,
      name: conn.principal.name,
      node: this.config.nodeId,
    };
  }
}

function joinedEvent(
  room: string,
  member: Member,
  transition: PresenceTransition | undefined,
): HubbubEventMap['presence.joined'] {
  const { userId, name } = member;
  return name === undefined ? { room, userId, transition } : { room, userId, name, transition };
}
