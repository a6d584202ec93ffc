import { settle } from '../../common/settle';

export type PresenceStatus = 'online' | 'away' | 'busy';

export interface Member {
  userId: string;
  name?: string;
  status: PresenceStatus;
  connections: number;
  since: number;
}

export interface ConnRef {
  connId: string;
  userId: string;
  name?: string;
  node: string;
}

/**
 * A member transition as the shared presence store decided it (cluster mode): atomically, so exactly one instance
 * reports each one. Absent from the in-memory store, where one process sees every change.
 */
export interface PresenceTransition {
  /** Unique to this transition in the cluster's history: ids derived from it are the same for a repeat. */
  id: string;
  /** The same transition also changed the room: its first member came in (join) or its last went out (leave). */
  room: boolean;
}

/** A user who has no connection left in a room; `transition` from stores that decide it cluster-wide. */
export interface Vacated {
  room: string;
  userId: string;
  transition?: PresenceTransition;
}

export abstract class PresenceStore {
  /** The connection is now connected (counts for isOnline). */
  abstract connect(conn: ConnRef): Promise<void>;
  /** The connection is gone: leaves all its rooms. Returns the rooms the USER left entirely (last connection), with that userId. */
  abstract disconnect(conn: ConnRef): Promise<Vacated[]>;
  /** firstForUser: this is the user's first connection in the room. member: the member as it is now. */
  abstract join(
    room: string,
    conn: ConnRef,
  ): Promise<{ firstForUser: boolean; member: Member; transition?: PresenceTransition }>;
  /** lastForUser: the user has no connection left in the room. */
  abstract leave(
    room: string,
    conn: ConnRef,
  ): Promise<{ lastForUser: boolean; transition?: PresenceTransition }>;
  /** Sorted by since then userId. */
  abstract members(room: string): Promise<Member[]>;
  abstract member(room: string, userId: string): Promise<Member | undefined>;
  /**
   * Status is per user (all devices); returns the rooms the user is currently in, so the caller can push
   * presence.update, or none when the user already had this status (nothing to tell) or is offline.
   */
  abstract setStatus(userId: string, status: PresenceStatus): Promise<string[]>;
  abstract isOnline(userIds: string[]): Promise<Record<string, boolean>>;
  /** All connections of a node are gone (that instance died): like disconnect for each; returns rooms/users that were vacated. */
  abstract dropNode(node: string): Promise<Vacated[]>;
  abstract roomCount(): Promise<number>;
  /** Every room with at least one member, in no particular order. */
  abstract roomNames(): Promise<string[]>;
  /** Members (users) in each of these rooms, in the same order; 0 for a room nobody is in. */
  abstract memberCounts(rooms: string[]): Promise<number[]>;
  abstract close(): Promise<void>;
}

/**
 * join() on a connection that was never connected, or already disconnected. Thrown rather than
 * connecting implicitly: a join that finishes after its socket's disconnect would otherwise leave a
 * ghost member online forever.
 */
export class UnknownConnectionError extends Error {
  constructor(readonly connId: string) {
    super(`connection ${connId} is not connected`);
    this.name = 'UnknownConnectionError';
  }
}

export const PRESENCE_STATUSES: readonly PresenceStatus[] = ['online', 'away', 'busy'];

/** Members sorted by when they arrived; userId breaks ties so the order is deterministic. */
export function compareMembers(a: Member, b: Member): number {
  return a.since - b.since || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
}

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
