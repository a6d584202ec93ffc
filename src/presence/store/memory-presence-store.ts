import { settle } from '../../common/settle';
import {
  compareMembers,
  PRESENCE_STATUSES,
  PresenceStore,
  UnknownConnectionError,
  type ConnRef,
  type Member,
  type PresenceStatus,
} from './presence-store';

interface ConnState {
  conn: ConnRef;
  /** Created at the first join: most connections of a chat-less app never join a room. */
  rooms?: Set<string>;
}

/** Exists only while the user has at least one connection, which is what resets status and name. */
interface UserState {
  status: PresenceStatus;
  name?: string;
  conns: Set<string>;
}

interface RoomEntry {
  connIds: Set<string>;
  since: number;
}

/** Single-process store; every structure is emptied as soon as it has nothing left, so idle costs nothing. */
export class MemoryPresenceStore extends PresenceStore {
  private readonly conns = new Map<string, ConnState>();
  private readonly users = new Map<string, UserState>();
  /** room → userId → that user's connections in the room. */
  private readonly rooms = new Map<string, Map<string, RoomEntry>>();
  private readonly nodes = new Map<string, Set<string>>();
  private readonly now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    super();
    this.now = opts.now ?? Date.now;
  }

  connect(conn: ConnRef): Promise<void> {
    return settle(() => {
      if (this.conns.has(conn.connId)) return; // idempotent: a retried connect changes nothing
      this.conns.set(conn.connId, { conn: { ...conn } });
      let user = this.users.get(conn.userId);
      if (!user) this.users.set(conn.userId, (user = { status: 'online', conns: new Set() }));
      user.conns.add(conn.connId);
      user.name ??= conn.name;
      getOrAdd(this.nodes, conn.node, () => new Set<string>()).add(conn.connId);
    });
  }

  disconnect(conn: ConnRef): Promise<{ room: string; userId: string }[]> {
    return settle(() => this.disconnectSync(conn.connId));
  }

  join(room: string, conn: ConnRef): Promise<{ firstForUser: boolean; member: Member }> {
    return settle(() => {
      const state = this.conns.get(conn.connId);
      if (!state) throw new UnknownConnectionError(conn.connId);
      // The stored connection is authoritative for userId, whatever the caller passes now.
      const { userId } = state.conn;
      const members = getOrAdd(this.rooms, room, () => new Map<string, RoomEntry>());
      let entry = members.get(userId);
      const firstForUser = !entry;
      if (!entry) members.set(userId, (entry = { connIds: new Set(), since: this.now() }));
      entry.connIds.add(conn.connId);
      (state.rooms ??= new Set()).add(room);
      return { firstForUser, member: this.toMember(userId, entry) };
    });
  }

  leave(room: string, conn: ConnRef): Promise<{ lastForUser: boolean }> {
    // lastForUser is true only when this call removed the last connection, so callers never
    // broadcast a leave for a user that was not there.
    return settle(() => ({ lastForUser: this.leaveSync(room, conn.connId) }));
  }

  members(room: string): Promise<Member[]> {
    return settle(() => {
      const members = this.rooms.get(room);
      if (!members) return [];
      return [...members].map(([userId, e]) => this.toMember(userId, e)).sort(compareMembers);
    });
  }

  member(room: string, userId: string): Promise<Member | undefined> {
    return settle(() => {
      const entry = this.rooms.get(room)?.get(userId);
      return entry && this.toMember(userId, entry);
    });
  }

  setStatus(userId: string, status: PresenceStatus): Promise<string[]> {
    return settle(() => {
      if (!PRESENCE_STATUSES.includes(status))
        throw new RangeError(`unknown status ${String(status)}`);
      // An offline user has no state to keep it in, and it would be reset on reconnect anyway.
      const user = this.users.get(userId);
      if (!user || user.status === status) return [];
      user.status = status;
      const rooms = new Set<string>();
      for (const id of user.conns) for (const r of this.conns.get(id)?.rooms ?? []) rooms.add(r);
      return [...rooms].sort();
    });
  }

  isOnline(userIds: string[]): Promise<Record<string, boolean>> {
    return settle(() => Object.fromEntries(userIds.map((id) => [id, this.users.has(id)])));
  }

  dropNode(node: string): Promise<{ room: string; userId: string }[]> {
    return settle(() => [...(this.nodes.get(node) ?? [])].flatMap((id) => this.disconnectSync(id)));
  }

  roomCount(): Promise<number> {
    return Promise.resolve(this.rooms.size);
  }

  roomNames(): Promise<string[]> {
    return Promise.resolve([...this.rooms.keys()]);
  }

  memberCounts(rooms: string[]): Promise<number[]> {
    return Promise.resolve(rooms.map((room) => this.rooms.get(room)?.size ?? 0));
  }

  close(): Promise<void> {
    this.conns.clear();
    this.users.clear();
    this.rooms.clear();
    this.nodes.clear();
    return Promise.resolve();
  }

  private disconnectSync(connId: string): { room: string; userId: string }[] {
    const state = this.conns.get(connId);
    if (!state) return []; // already gone (e.g. dropNode ran first): nothing to report twice
    const { userId, node } = state.conn;
    const vacated: { room: string; userId: string }[] = [];
    for (const room of state.rooms ?? [])
      if (this.leaveSync(room, connId)) vacated.push({ room, userId });
    this.conns.delete(connId);
    const user = this.users.get(userId);
    user?.conns.delete(connId);
    if (user?.conns.size === 0) this.users.delete(userId);
    const nodeConns = this.nodes.get(node);
    nodeConns?.delete(connId);
    if (nodeConns?.size === 0) this.nodes.delete(node);
    return vacated;
  }

  /** Returns true when the user has no connection left in the room because of this call. */
  private leaveSync(room: string, connId: string): boolean {
    const state = this.conns.get(connId);
    if (!state?.rooms?.delete(room)) return false;
    const members = this.rooms.get(room);
    const entry = members?.get(state.conn.userId);
    if (!members || !entry) return false;
    entry.connIds.delete(connId);
    if (entry.connIds.size > 0) return false;
    members.delete(state.conn.userId);
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  private toMember(userId: string, entry: RoomEntry): Member {
    const user = this.users.get(userId);
    return {
      userId,
      ...(user?.name === undefined ? {} : { name: user.name }),
      status: user?.status ?? 'online',
      connections: entry.connIds.size,
      since: entry.since,
    };
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}
