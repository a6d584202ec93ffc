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
import { PresenceOrder } from './presence-order';
import {
  PresenceStore,
  UnknownConnectionError,
  type ConnRef,
  type Member,
  type PresenceStatus,
  type Vacated,
} from './store/presence-store';

/** Connections written back at once by a resync (each one's steps in order), and leaves announced at once. */
const RESYNC_CONCURRENCY = 32;

type OrderedPush = HubbubEventMap['command.presence.push'];
type PresencePush = OrderedPush['event'];

/**
 * Per-user presence in rooms: a user is a member while any of their connections (on any instance) is joined.
 * Pushes `presence.join` for a user's first connection in a room and `presence.leave` for the last one, each
 * carrying the (room, user)'s `v`; every instance drops a push older than one it already sent (PresenceOrder).
 */
@Injectable()
export class PresenceService implements OnModuleDestroy {
  private readonly logger = new Logger(PresenceService.name);
  private readonly updates = new StatusCoalescer(STATUS_COALESCE_MS, (changes) =>
    this.pushUpdates(changes),
  );
  private readonly order = new PresenceOrder();
  /** `connId\nroom` of joins the store could not record (it was unreachable); the resync announces them. */
  private readonly unrecorded = new Set<string>();
  /** `connId\nroom` of joins whose store write has not answered yet. */
  private readonly joining = new Set<string>();
  /** `room\nuserId` → the announcement of that user's leave, while it is under way. */
  private readonly leaving = new Map<string, Promise<void>>();

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
  async stateLost(): Promise<void> {
    await this.resync(this.registry.all());
  }

  @OnEvent({ name: 'connection.opened', priority: EventPriority.Shared })
  async opened({ conn }: ConnectionEvent): Promise<void> {
    await this.store.connect(this.ref(conn));
  }

  @OnEvent({ name: 'connection.closed', priority: EventPriority.Shared })
  async closed({ conn }: ConnectionEvent): Promise<void> {
    if (this.unrecorded.size > 0) this.forgetUnrecorded(conn);
    const vacated = await this.store.disconnect(this.ref(conn));
    await this.announceLeaves(vacated);
  }

  onModuleDestroy(): void {
    this.updates.stop();
    this.order.stop();
  }

  /** Call after RoomService.join. Returns the member as it now is. */
  async join(conn: Connection, room: string): Promise<Member | undefined> {
    // Until the store answers, a resync leaves this membership to this join (which announces it when it is first).
    const key = pairKey(conn.id, room);
    this.joining.add(key);
    try {
      const joined = this.store.join(room, this.ref(conn));
      void joined.finally(() => this.joining.delete(key)).catch(() => undefined);
      const { firstForUser, member, transition } = await joined;
      // A leave of this user decided before (a reap announcing many) is recorded first.
      if (firstForUser) await this.leaving.get(pairKey(room, member.userId));
      if (firstForUser)
        await this.bus.emit('presence.joined', joinedEvent(room, member, transition));
      if (firstForUser) await this.send(room, member, 'presence.join', { room, member }, conn);
      return member;
    } catch (err) {
      // The socket closed while the join was in flight: its disconnect already cleaned up.
      if (err instanceof UnknownConnectionError && conn.closed) return undefined;
      if (err instanceof UnknownConnectionError) throw err;
      // The shared store is unreachable (Redis down): the room join itself stands, and the resync after the
      // reconnect writes this membership, and announces it when it is the user's first.
      this.unrecorded.add(pairKey(conn.id, room));
      this.logger.warn(`presence of ${conn.id} in ${room} not recorded: ${String(err)}`);
      return undefined;
    }
  }

  async leave(conn: Connection, room: string): Promise<void> {
    this.unrecorded.delete(pairKey(conn.id, room));
    try {
      const { lastForUser, v, transition } = await this.store.leave(room, this.ref(conn));
      if (lastForUser && v !== undefined)
        await this.announceLeaves([{ room, userId: conn.userId, v, transition }]);
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
            if (member) await this.send(room, member, 'presence.update', { room, member });
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

  /**
   * Pushes `presence.leave` for rooms that users left entirely (closed sockets, a dead instance), many at once: a
   * reap holds its lock while it announces, and the reaped instance writes its state back (announcing joins) only
   * after that, so a slow one-by-one announcement would let the lock lapse and the joins overtake the leaves.
   */
  async announceLeaves(vacated: Vacated[]): Promise<void> {
    // Each leave is known as pending at once, before any is recorded: a join of the same user that comes meanwhile
    // waits for it (so the webhooks of one (room, user) are recorded in the order the store decided them).
    const done = vacated.map(({ room, userId }) => {
      const key = pairKey(room, userId);
      let resolve!: () => void;
      const pending = new Promise<void>((r) => (resolve = r));
      this.leaving.set(key, pending);
      return () => {
        if (this.leaving.get(key) === pending) this.leaving.delete(key);
        resolve();
      };
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < vacated.length) {
        const i = next++;
        await this.announceLeave(vacated[i]).finally(done[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESYNC_CONCURRENCY, vacated.length) }, worker));
  }

  private async announceLeave({ room, userId, v, transition }: Vacated): Promise<void> {
    await this.bus.emit('presence.left', { room, userId, transition });
    try {
      await this.send(room, { userId, v }, 'presence.leave', { room, userId, v });
    } catch (err) {
      this.logger.warn(`presence.leave for ${room} not pushed: ${String(err)}`);
    }
  }

  /**
   * After an outage of the shared store: replaces everything recorded for this instance with its live
   * connections (some may have closed while the store could not hear of it, or the store may have lost all
   * of it in a restart), then announces the users that are really gone. The store tells which writes make a user
   * present again after their leave was announced (a reap of this instance, another instance's resync that ran
   * first): those joins are announced; a membership the store only lost is written back silently. A leave is
   * announced once it is confirmed (the user is in none of the instances' records) and nobody announced it yet.
   */
  async resync(conns: Iterable<Connection>): Promise<void> {
    const stale = await this.store.dropNode(this.config.nodeId, { silent: true });
    const live = [...conns].filter((conn) => !conn.closed);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < live.length) await this.rewrite(live[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(RESYNC_CONCURRENCY, live.length) }, worker));
    const gone: Vacated[] = [];
    for (const pair of stale) {
      const left = await this.store.confirmLeft(pair.room, pair.userId);
      if (!left) continue;
      const transition = pair.transition && { id: pair.transition.id, room: left.vacated };
      gone.push({ room: pair.room, userId: pair.userId, v: left.v, transition });
    }
    await this.announceLeaves(gone);
  }

  /** Writes one live connection back (resync), announcing the joins the store says must be. */
  private async rewrite(conn: Connection): Promise<void> {
    try {
      await this.store.connect(this.ref(conn));
      // Before the joins, so that an announced member carries its status.
      if (conn.status !== 'online') await this.store.setStatus(conn.userId, conn.status);
      for (const room of conn.rooms) {
        const key = pairKey(conn.id, room);
        if (this.joining.has(key)) continue;
        const { announce, member, transition } = await this.store.rejoin(
          room,
          this.ref(conn),
          this.unrecorded.has(key),
        );
        this.unrecorded.delete(key);
        if (!announce) continue;
        await this.bus.emit('presence.joined', joinedEvent(room, member, transition));
        await this.send(room, member, 'presence.join', { room, member });
      }
    } catch (err) {
      // Closed meanwhile (its disconnect cleaned up), or this instance reaped again (the resync runs again).
      if (!(err instanceof UnknownConnectionError)) throw err;
    }
  }

  private forgetUnrecorded(conn: Connection): void {
    const prefix = pairKey(conn.id, '');
    for (const key of this.unrecorded) if (key.startsWith(prefix)) this.unrecorded.delete(key);
  }

  /** Sends a presence push to every instance (this one included), which delivers it unless it is out of date. */
  private send(
    room: string,
    member: { userId: string; v: number },
    event: PresencePush,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    const push: OrderedPush = { room, userId: member.userId, v: member.v, event, data };
    if (except) push.except = except.id;
    return this.push.command('command.presence.push', push);
  }

  /** A presence push from any instance (this one included): delivered here unless it is out of date. */
  @OnEvent({ name: 'command.presence.push' })
  deliver({ room, userId, v, event, data, except }: OrderedPush): void {
    if (this.order.admit(room, userId, v)) this.push.toLocalRoom(room, event, data, except);
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

/** `a\nb`: (connection, room) for unrecorded joins, (room, user) for leaves being announced. */
function pairKey(a: string, b: string): string {
  return `${a}\n${b}`;
}

function joinedEvent(
  room: string,
  member: Member,
  transition: PresenceTransition | undefined,
): HubbubEventMap['presence.joined'] {
  const { userId, name } = member;
  return name === undefined ? { room, userId, transition } : { room, userId, name, transition };
}
