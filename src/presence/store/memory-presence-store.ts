import { settle } from '../../common/settle';
import {
  compareMembers,
  PRESENCE_STATUSES,
  PresenceStore,
  UnknownConnectionError,
  type ConnRef,
  type Member,
  type PresenceStatus,
  type Vacated,
  type Joined,
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
  v: number;
}

/** How long an announced leave is remembered for rejoin() (the Redis twin's `left:<room>`). */
const LEFT_MS = 3600_000;

/** Single-process store; every structure is emptied as soon as it has nothing left, so idle costs nothing. */
export class MemoryPresenceStore extends PresenceStore {
  private readonly conns = new Map<string, ConnState>();
  private readonly users = new Map<string, UserState>();
  /** room → userId → that user's connections in the room. */
  private readonly rooms = new Map<string, Map<string, RoomEntry>>();
  private readonly nodes = new Map<string, Set<string>>();
  /** `room\nuserId` → when the user's leave was announced (see rejoin), oldest first. */
  private readonly left = new Map<string, number>();
  private readonly now: () => number;
  /** Numbers every presence change (Member.v); from the clock in µs, so a new process starts above the old one. */
  private v = Date.now() * 1000;

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

  disconnect(conn: ConnRef): Promise<Vacated[]> {
    return settle(() => this.disconnectSync(conn.connId, false));
  }

  join(room: string, conn: ConnRef): Promise<Joined & { firstForUser: boolean }> {
    return settle(() => this.joinSync(room, conn));
  }

  rejoin(room: string, conn: ConnRef, fresh = false): Promise<Joined & { announce: boolean }> {
    return settle(() => {
      const wasLeft = this.left.has(`${room}\n${conn.userId}`);
      const { firstForUser, member } = this.joinSync(room, conn);
      return { announce: firstForUser && (wasLeft || fresh), member };
    });
  }

  confirmLeft(room: string, userId: string): Promise<{ v: number; vacated: boolean } | undefined> {
    return settle(() => {
      const known = this.rooms.get(room)?.has(userId) || this.left.has(`${room}\n${userId}`);
      if (known) return undefined;
      this.markLeft(room, userId);
      return { v: ++this.v, vacated: !this.rooms.has(room) };
    });
  }

  private joinSync(room: string, conn: ConnRef): Joined & { firstForUser: boolean } {
    const state = this.conns.get(conn.connId);
    if (!state) throw new UnknownConnectionError(conn.connId);
    // The stored connection is authoritative for userId, whatever the caller passes now.
    const { userId } = state.conn;
    const members = getOrAdd(this.rooms, room, () => new Map<string, RoomEntry>());
    let entry = members.get(userId);
    const firstForUser = !entry;
    if (!entry) {
      members.set(userId, (entry = { connIds: new Set(), since: this.now(), v: ++this.v }));
      this.left.delete(`${room}\n${userId}`);
    }
    entry.connIds.add(conn.connId);
    (state.rooms ??= new Set()).add(room);
    return { firstForUser, member: this.toMember(userId, entry) };
  }

  leave(room: string, conn: ConnRef): Promise<{ lastForUser: boolean; v?: number }> {
    // lastForUser only when this call removed the last connection: nobody broadcasts a leave of an absent user.
    return settle(() => {
      const v = this.leaveSync(room, conn.connId, false);
      return v === undefined ? { lastForUser: false } : { lastForUser: true, v };
    });
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
      for (const r of rooms) {
        const entry = this.rooms.get(r)?.get(userId);
        if (entry) entry.v = ++this.v;
      }
      return [...rooms].sort();
    });
  }

  isOnline(userIds: string[]): Promise<Record<string, boolean>> {
    return settle(() => Object.fromEntries(userIds.map((id) => [id, this.users.has(id)])));
  }

  dropNode(node: string, opts: { silent?: boolean } = {}): Promise<Vacated[]> {
    const silent = opts.silent === true;
    return settle(() =>
      [...(this.nodes.get(node) ?? [])].flatMap((id) => this.disconnectSync(id, silent)),
    );
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
    this.left.clear();
    return Promise.resolve();
  }

  private disconnectSync(connId: string, silent: boolean): Vacated[] {
    const state = this.conns.get(connId);
    if (!state) return []; // already gone (e.g. dropNode ran first): nothing to report twice
    const { userId, node } = state.conn;
    const vacated: Vacated[] = [];
    for (const room of state.rooms ?? []) {
      const v = this.leaveSync(room, connId, silent);
      if (v !== undefined) vacated.push({ room, userId, v });
    }
    this.conns.delete(connId);
    const user = this.users.get(userId);
    user?.conns.delete(connId);
    if (user?.conns.size === 0) this.users.delete(userId);
    const nodeConns = this.nodes.get(node);
    nodeConns?.delete(connId);
    if (nodeConns?.size === 0) this.nodes.delete(node);
    return vacated;
  }

  /** Returns the leave's v when the user has no connection left in the room because of this call. */
  private leaveSync(room: string, connId: string, silent: boolean): number | undefined {
    const state = this.conns.get(connId);
    if (!state?.rooms?.delete(room)) return undefined;
    const members = this.rooms.get(room);
    const entry = members?.get(state.conn.userId);
    if (!members || !entry) return undefined;
    entry.connIds.delete(connId);
    if (entry.connIds.size > 0) return undefined;
    members.delete(state.conn.userId);
    if (members.size === 0) this.rooms.delete(room);
    if (!silent) this.markLeft(room, state.conn.userId);
    return ++this.v;
  }

  private markLeft(room: string, userId: string): void {
    const now = Date.now();
    const key = `${room}\n${userId}`;
    this.left.delete(key); // re-inserted last: the map stays in time order, so pruning stops at the first recent one
    this.left.set(key, now);
    for (const [k, at] of this.left) {
      if (at > now - LEFT_MS) break;
      this.left.delete(k);
    }
  }

  private toMember(userId: string, entry: RoomEntry): Member {
    const user = this.users.get(userId);
    return {
      userId,
      ...(user?.name === undefined ? {} : { name: user.name }),
      status: user?.status ?? 'online',
      connections: entry.connIds.size,
      since: entry.since,
      v: entry.v,
    };
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}
