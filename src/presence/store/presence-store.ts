export type PresenceStatus = 'online' | 'away' | 'busy';

export interface Member {
  userId: string;
  name?: string;
  status: PresenceStatus;
  connections: number;
  since: number;
  /** Grows with each change of this (room, user) cluster-wide (join, status, leave); starts near the clock in µs. */
  v: number;
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
  /** The leave's v (see Member.v). */
  v: number;
  transition?: PresenceTransition;
}

/** What join() and rejoin() tell: the member as it now is; the transition from stores that decide it cluster-wide. */
export interface Joined {
  member: Member;
  transition?: PresenceTransition;
}

export abstract class PresenceStore {
  /** The connection is now connected (counts for isOnline). */
  abstract connect(conn: ConnRef): Promise<void>;
  /** The connection is gone: leaves all its rooms. Returns the rooms the USER left entirely (last connection), with that userId. */
  abstract disconnect(conn: ConnRef): Promise<Vacated[]>;
  /** firstForUser: this is the user's first connection in the room. member: the member as it is now. */
  abstract join(room: string, conn: ConnRef): Promise<Joined & { firstForUser: boolean }>;
  /** lastForUser: the user has no connection left in the room; v: the leave's (set when lastForUser). */
  abstract leave(
    room: string,
    conn: ConnRef,
  ): Promise<{ lastForUser: boolean; v?: number; transition?: PresenceTransition }>;
  /**
   * join() for a resync, which writes back a live connection the store may have lost. announce: the user's first
   * connection in the room AND their leave of it had been announced (a reap, another instance's resync) or `fresh`
   * (this join was never recorded: the store was unreachable), so the join must be announced; a membership the store
   * only lost is written back silently.
   */
  abstract rejoin(
    room: string,
    conn: ConnRef,
    fresh?: boolean,
  ): Promise<Joined & { announce: boolean }>;
  /**
   * After a silent dropNode (resync): the user is not in the room, and no leave of it was announced since, so this
   * caller announces it: records it as announced and returns a fresh v (and whether the room is empty); else
   * undefined (the user is back, or someone else announced it).
   */
  abstract confirmLeft(
    room: string,
    userId: string,
  ): Promise<{ v: number; vacated: boolean } | undefined>;
  /** Sorted by since then userId. */
  abstract members(room: string): Promise<Member[]>;
  abstract member(room: string, userId: string): Promise<Member | undefined>;
  /**
   * Status is per user (all devices); returns the rooms the user is currently in, so the caller can push
   * presence.update, or none when the user already had this status (nothing to tell) or is offline.
   */
  abstract setStatus(userId: string, status: PresenceStatus): Promise<string[]>;
  abstract isOnline(userIds: string[]): Promise<Record<string, boolean>>;
  /**
   * All connections of a node are gone (that instance died): like disconnect for each; returns rooms/users that were
   * vacated. `silent`: the caller announces none of these leaves until confirmLeft() (a resync).
   */
  abstract dropNode(node: string, opts?: { silent?: boolean }): Promise<Vacated[]>;
  abstract roomCount(): Promise<number>;
  /** Every room with at least one member, in no particular order. */
  abstract roomNames(): Promise<string[]>;
  /** Members (users) in each of these rooms, in the same order; 0 for a room nobody is in. */
  abstract memberCounts(rooms: string[]): Promise<number[]>;
  abstract close(): Promise<void>;
}

/**
 * join() on a connection that was never connected, or already disconnected. Thrown rather than connecting
 * implicitly: a join that finishes after its socket's disconnect would otherwise leave a ghost member forever.
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
