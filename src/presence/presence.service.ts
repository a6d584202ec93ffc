import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ConnectionEvents } from '../core/connection-events';
import { PushService } from '../core/push.service';
import type { Connection } from '../ws/connection';
import {
  PresenceStore,
  UnknownConnectionError,
  type Conn,
  type Member,
  type PresenceStatus,
} from './store/presence-store';

/**
 * Per-user presence in rooms: a user is a member while any of their connections (on any instance) is joined.
 * Pushes `presence.join` for a user's first connection in a room and `presence.leave` for the last one.
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly store: PresenceStore,
    private readonly push: PushService,
    events: ConnectionEvents,
  ) {
    events.onOpen((conn) => this.store.connect(this.ref(conn)));
    events.onClose(async (conn) => {
      const vacated = await this.store.disconnect(this.ref(conn));
      await this.announceLeaves(vacated);
    });
  }

  /** Call after RoomService.join. Returns the member as it now is. */
  async join(conn: Connection, room: string): Promise<Member | undefined> {
    try {
      const { firstForUser, member } = await this.store.join(room, this.ref(conn));
      if (firstForUser) await this.push.toRoom(room, 'presence.join', { room, member }, conn);
      return member;
    } catch (err) {
      // The socket closed while the join was in flight: its disconnect already cleaned up.
      if (err instanceof UnknownConnectionError && conn.closed) return undefined;
      throw err;
    }
  }

  async leave(conn: Connection, room: string): Promise<void> {
    const { lastForUser } = await this.store.leave(room, this.ref(conn));
    if (lastForUser) await this.push.toRoom(room, 'presence.leave', { room, userId: conn.userId });
  }

  members(room: string): Promise<Member[]> {
    return this.store.members(room);
  }

  async setStatus(conn: Connection, status: PresenceStatus): Promise<void> {
    conn.status = status;
    const rooms = await this.store.setStatus(conn.userId, status);
    await Promise.all(
      rooms.map(async (room) => {
        const member = await this.store.member(room, conn.userId);
        if (member) await this.push.toRoom(room, 'presence.update', { room, member });
      }),
    );
  }

  isOnline(userIds: string[]): Promise<Record<string, boolean>> {
    return this.store.isOnline(userIds);
  }

  /** Pushes `presence.leave` for rooms that users left entirely (closed sockets, a dead instance). */
  async announceLeaves(vacated: { room: string; userId: string }[]): Promise<void> {
    for (const { room, userId } of vacated) {
      try {
        await this.push.toRoom(room, 'presence.leave', { room, userId });
      } catch (err) {
        this.logger.warn(`presence.leave for ${room} not pushed: ${String(err)}`);
      }
    }
  }

  /** Writes the presence of local connections again (after the shared store lost it). Idempotent. */
  async resync(conns: Iterable<Connection>): Promise<void> {
    for (const conn of conns) {
      if (conn.closed) continue;
      await this.store.connect(this.ref(conn));
      for (const room of conn.rooms) await this.store.join(room, this.ref(conn));
      if (conn.status !== 'online') await this.store.setStatus(conn.userId, conn.status);
    }
  }

  private ref(conn: Connection): Conn {
    return { connId: conn.id, userId: conn.userId, name: conn.principal.name, node: this.config.nodeId };
  }
}
