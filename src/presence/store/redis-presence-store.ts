import type { Redis } from 'ioredis';
import {
  compareMembers,
  type ConnRef,
  type Member,
  PRESENCE_STATUSES,
  PresenceStore,
  type PresenceStatus,
  UnknownConnectionError,
  type PresenceTransition,
  type Vacated,
} from './presence-store';
import { LUA_PRELUDE, SCRIPTS } from './redis-presence-scripts';

export interface RedisPresenceStoreOptions {
  /**
   * Prepended to every key (after the client's own keyPrefix, if any). Give this store a namespace of
   * its own, e.g. `hubbub:presence:`, not the bare app prefix other key families share.
   */
  prefix: string;
  /** Clock for `since`; every instance should use the same kind of clock (wall time). */
  now?: () => number;
}

/**
 * Key layout, all under `<prefix>` (variable part always last, and no tag is a prefix of another
 * tag followed by its `:`, so ids containing `:` cannot collide):
 *
 *   conn:<connId>        hash  { userId, node }       exists ⇔ the connection is connected
 *   conn-rooms:<connId>  set   rooms the connection is in
 *   node-conns:<node>    set   connIds of that instance (for dropNode)
 *   user:<userId>        hash  { status, name? }      exists ⇔ the user has ≥ 1 connection
 *   user-conns:<userId>  set   connIds of the user on every node (isOnline)
 *   room:<room>          hash  connId → userId        connections in the room
 *   room-count:<room>    hash  userId → that user's connections in the room (member.connections)
 *   room-since:<room>    hash  userId → since         one field per member
 *   room-v:<room>        hash  userId → v             one field per member (Member.v)
 *   left:<room>          zset  userId by time (ms)    users whose leave was announced, kept an hour
 *   rooms                set   non-empty rooms (roomCount)
 *
 *   transitions          hash  { epoch, n }           numbers member transitions (see PresenceTransition)
 *
 * Every structure but `transitions` is removed as soon as it is empty (Redis drops empty hashes/sets by
 * itself), so an idle cluster leaves one key behind. Every mutation is one Lua script, so concurrent instances see
 * exact firstForUser / lastForUser. The scripts build keys from ARGV[1] (the key base) rather than
 * declaring each in KEYS: on a Redis Cluster the prefix carries a hash tag (`hubbub:{presence}:`), so every key is
 * in the slot of KEYS[1], the one key each script declares.
 */

type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Connections handled per dropNode script call, so one dead instance never blocks Redis for long. */
const DROP_NODE_BATCH = 200;
const MEMBER_FIELDS = 6;
const VACATED_FIELDS = 5;

/**
 * Cluster-wide presence in Redis: all instances share one view, so a user's connections on several
 * nodes count as one member whose `connections` is the total. Same semantics as MemoryPresenceStore.
 * The ioredis client belongs to the caller: close() leaves it open.
 */
export class RedisPresenceStore extends PresenceStore {
  private readonly prefix: string;
  /** Key base as Redis sees it: the scripts build keys themselves, so they need the client's keyPrefix too. */
  private readonly base: string;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    opts: RedisPresenceStoreOptions,
  ) {
    super();
    this.prefix = opts.prefix;
    this.base = (redis.options.keyPrefix ?? '') + opts.prefix;
    this.now = opts.now ?? Date.now;
    // Redefining on a shared client is harmless (same name, same script); ioredis sends EVALSHA and
    // falls back to EVAL once per connection when Redis does not know the script yet.
    for (const [name, body] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { lua: LUA_PRELUDE + body, numberOfKeys: 1 });
    }
  }

  async connect(conn: ConnRef): Promise<void> {
    const hasName = conn.name !== undefined;
    await this.run(
      'hubbubPresenceConnect',
      conn.connId,
      conn.userId,
      conn.node,
      hasName ? '1' : '0',
      conn.name ?? '',
    );
  }

  async disconnect(conn: ConnRef): Promise<Vacated[]> {
    return vacatedOf(asArray(await this.run('hubbubPresenceDisconnect', conn.connId)));
  }

  async join(
    room: string,
    conn: ConnRef,
  ): Promise<{ firstForUser: boolean; member: Member; transition?: PresenceTransition }> {
    const { announce, member, transition } = await this.joinScript(room, conn, 'join');
    return { firstForUser: announce, member, ...(transition ? { transition } : {}) };
  }

  rejoin(
    room: string,
    conn: ConnRef,
    fresh = false,
  ): Promise<{ announce: boolean; member: Member; transition?: PresenceTransition }> {
    return this.joinScript(room, conn, fresh ? 'fresh' : 'resync');
  }

  async confirmLeft(
    room: string,
    userId: string,
  ): Promise<{ v: number; vacated: boolean } | undefined> {
    const [v, vacated] = asArray(await this.run('hubbubPresenceConfirmLeft', room, userId));
    return v === undefined ? undefined : { v: Number(v), vacated: Number(vacated) === 1 };
  }

  async leave(
    room: string,
    conn: ConnRef,
  ): Promise<{ lastForUser: boolean; v?: number; transition?: PresenceTransition }> {
    const [last, id, vacated, v] = asArray(
      await this.run('hubbubPresenceLeave', room, conn.connId),
    );
    if (Number(last) !== 1) return { lastForUser: false };
    return {
      lastForUser: true,
      v: Number(v),
      transition: { id: String(id), room: Number(vacated) === 1 },
    };
  }

  async members(room: string): Promise<Member[]> {
    const fields = asArray(await this.run('hubbubPresenceMembers', room));
    const members: Member[] = [];
    for (let i = 0; i < fields.length; i += MEMBER_FIELDS) members.push(toMember(fields, i));
    return members.sort(compareMembers);
  }

  async member(room: string, userId: string): Promise<Member | undefined> {
    const fields = asArray(await this.run('hubbubPresenceMembers', room, userId));
    return fields.length === 0 ? undefined : toMember(fields, 0);
  }

  async setStatus(userId: string, status: PresenceStatus): Promise<string[]> {
    // It may come straight from a client frame: never store garbage other instances would read.
    if (!PRESENCE_STATUSES.includes(status))
      throw new RangeError(`unknown status ${String(status)}`);
    const rooms = asArray(await this.run('hubbubPresenceSetStatus', userId, status));
    return rooms.map(String).sort();
  }

  async isOnline(userIds: string[]): Promise<Record<string, boolean>> {
    if (userIds.length === 0) return {};
    const flags = asArray(await this.run('hubbubPresenceOnline', ...userIds));
    return Object.fromEntries(userIds.map((id, i) => [id, Number(flags[i]) === 1]));
  }

  async dropNode(node: string, opts: { silent?: boolean } = {}): Promise<Vacated[]> {
    const vacated: Vacated[] = [];
    const silent = opts.silent ? '1' : '0';
    for (;;) {
      const [left, ...rest] = asArray(
        await this.run('hubbubPresenceDropNode', node, DROP_NODE_BATCH, silent),
      );
      vacated.push(...vacatedOf(rest));
      if (Number(left) === 0) return vacated;
    }
  }

  async roomCount(): Promise<number> {
    // A plain command: ioredis adds the client's keyPrefix itself.
    return this.redis.scard(`${this.prefix}rooms`);
  }

  roomNames(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}rooms`);
  }

  async memberCounts(rooms: string[]): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const room of rooms) pipeline.hlen(`${this.prefix}room-since:${room}`);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, n]) => (err ? 0 : Number(n)));
  }

  /** The state is shared with the other instances and the client is the caller's: nothing to do. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  private async joinScript(
    room: string,
    conn: ConnRef,
    mode: 'join' | 'resync' | 'fresh',
  ): Promise<{ announce: boolean; member: Member; transition?: PresenceTransition }> {
    const reply = await this.run('hubbubPresenceJoin', room, conn.connId, this.now(), mode);
    if (reply === null) throw new UnknownConnectionError(conn.connId);
    const [first, id, occupied, ...fields] = asArray(reply);
    const member = toMember(fields, 0);
    if (Number(first) !== 1) return { announce: false, member };
    return { announce: true, member, transition: { id: String(id), room: Number(occupied) === 1 } };
  }

  private run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    const commands = this.redis as unknown as Record<ScriptName, ScriptFn>;
    // KEYS[1] names the store's slot (every key shares the prefix's hash tag on a Redis Cluster), so the script
    // runs on the master that holds them all; the script builds its keys from ARGV[1], the base.
    return commands[name](`${this.prefix}rooms`, this.base, ...args);
  }
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`unexpected Redis reply ${String(reply)}`);
  return reply as unknown[];
}

/** Flat [room, userId, transition id, vacated (0|1), v, …] → one Vacated each. */
function vacatedOf(flat: unknown[]): Vacated[] {
  const out: Vacated[] = [];
  for (let i = 0; i + VACATED_FIELDS - 1 < flat.length; i += VACATED_FIELDS) {
    out.push({
      room: String(flat[i]),
      userId: String(flat[i + 1]),
      v: Number(flat[i + 4]),
      transition: { id: String(flat[i + 2]), room: Number(flat[i + 3]) === 1 },
    });
  }
  return out;
}

/** Reads userId, since, connections, status, name, v at fields[at…]. */
function toMember(fields: unknown[], at: number): Member {
  const [userId, since, connections, status, name, v] = fields.slice(at, at + MEMBER_FIELDS);
  return {
    userId: String(userId),
    ...(typeof name === 'string' ? { name } : {}), // a Lua false (unset) arrives as null
    status: PRESENCE_STATUSES.includes(status as PresenceStatus)
      ? (status as PresenceStatus)
      : 'online',
    connections: Number(connections ?? 0),
    since: Number(since),
    v: Number(v ?? 0),
  };
}
