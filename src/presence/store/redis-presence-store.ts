import type { Redis } from 'ioredis';
import {
  compareMembers,
  type Conn,
  type Member,
  PRESENCE_STATUSES,
  PresenceStore,
  type PresenceStatus,
  UnknownConnectionError,
} from './presence-store';

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
 *   rooms                set   non-empty rooms (roomCount)
 *
 * Every structure is removed as soon as it is empty (Redis drops empty hashes/sets by itself), so an
 * idle cluster leaves no key behind. Every mutation is one Lua script, so concurrent instances see
 * exact firstForUser / lastForUser. The scripts build keys from ARGV[1] (the key base) rather than
 * declaring them in KEYS: this needs a plain (non-cluster) Redis, which is what cluster mode uses.
 */
const LUA_PRELUDE = `
local base = ARGV[1]
local roomsKey = base .. 'rooms'
local function key(tag, id) return base .. tag .. ':' .. id end

-- Removes one connection from one room. Returns true when that was the user's last connection
-- there (the member is gone), false when the connection was not in the room or others remain.
local function leaveRoom(room, connId)
  local roomKey = key('room', room)
  local userId = redis.call('HGET', roomKey, connId)
  if not userId then return false end
  redis.call('HDEL', roomKey, connId)
  redis.call('SREM', key('conn-rooms', connId), room)
  local countKey = key('room-count', room)
  if redis.call('HINCRBY', countKey, userId, -1) > 0 then return false end
  redis.call('HDEL', countKey, userId)
  redis.call('HDEL', key('room-since', room), userId)
  if redis.call('EXISTS', roomKey) == 0 then redis.call('SREM', roomsKey, room) end
  return true
end

-- Forgets a connection: leaves all its rooms, unlinks it from its user and node, and drops the user
-- (status, name) with its last connection. Appends room, userId for every room the user vacated.
local function disconnectConn(connId, out)
  local connKey = key('conn', connId)
  local userId, node = unpack(redis.call('HMGET', connKey, 'userId', 'node'))
  if not userId then return end -- already gone (e.g. dropNode ran first): nothing to report twice
  local connRooms = key('conn-rooms', connId)
  for _, room in ipairs(redis.call('SMEMBERS', connRooms)) do
    if leaveRoom(room, connId) then
      out[#out + 1] = room
      out[#out + 1] = userId
    end
  end
  redis.call('DEL', connKey, connRooms)
  if node then redis.call('SREM', key('node-conns', node), connId) end
  local userConns = key('user-conns', userId)
  redis.call('SREM', userConns, connId)
  if redis.call('EXISTS', userConns) == 0 then redis.call('DEL', key('user', userId)) end
end

-- Appends userId, since, connections, status, name (false when unset) of a room member.
local function appendMember(out, room, userId, since)
  local status, name = unpack(redis.call('HMGET', key('user', userId), 'status', 'name'))
  out[#out + 1] = userId
  out[#out + 1] = since
  out[#out + 1] = redis.call('HGET', key('room-count', room), userId)
  out[#out + 1] = status
  out[#out + 1] = name
end
`;

const SCRIPTS = {
  /** ARGV: base, connId, userId, node, hasName ('1'|'0'), name. Idempotent. */
  hubbubPresenceConnect: `
local connId, userId, node = ARGV[2], ARGV[3], ARGV[4]
local connKey = key('conn', connId)
if redis.call('EXISTS', connKey) == 1 then return 0 end -- a retried connect changes nothing
redis.call('HSET', connKey, 'userId', userId, 'node', node)
redis.call('SADD', key('node-conns', node), connId)
redis.call('SADD', key('user-conns', userId), connId)
-- The user hash lives exactly as long as the user has a connection, so the first connection
-- starts with a fresh status, and the name comes from the first connection that has one.
local userKey = key('user', userId)
redis.call('HSETNX', userKey, 'status', 'online')
if ARGV[5] == '1' then redis.call('HSETNX', userKey, 'name', ARGV[6]) end
return 1`,

  /** ARGV: base, connId. Returns {room, userId, ...} for the rooms the user vacated. */
  hubbubPresenceDisconnect: `
local out = {}
disconnectConn(ARGV[2], out)
return out`,

  /**
   * ARGV: base, room, connId, now. Returns false for an unknown connection, else
   * {firstForUser (0|1), userId, since, connections, status, name}.
   */
  hubbubPresenceJoin: `
local room, connId, now = ARGV[2], ARGV[3], ARGV[4]
-- The stored connection is authoritative for userId, whatever the caller passes now.
local userId = redis.call('HGET', key('conn', connId), 'userId')
if not userId then return false end
local first = 0
if redis.call('HSETNX', key('room', room), connId, userId) == 1 then -- else: already joined
  redis.call('SADD', key('conn-rooms', connId), room)
  redis.call('SADD', roomsKey, room)
  if redis.call('HINCRBY', key('room-count', room), userId, 1) == 1 then
    redis.call('HSET', key('room-since', room), userId, now)
    first = 1
  end
end
local out = {first}
appendMember(out, room, userId, redis.call('HGET', key('room-since', room), userId))
return out`,

  /** ARGV: base, room, connId. Returns 1 when the user has no connection left in the room. */
  hubbubPresenceLeave: `
if leaveRoom(ARGV[2], ARGV[3]) then return 1 end
return 0`,

  /**
   * ARGV: base, node, batch. Disconnects up to `batch` connections of the node; returns
   * {connections still left on the node, room, userId, ...}. Batches keep each script short.
   */
  hubbubPresenceDropNode: `
local nodeKey = key('node-conns', ARGV[2])
local out = {0}
for _, connId in ipairs(redis.call('SRANDMEMBER', nodeKey, tonumber(ARGV[3]))) do
  disconnectConn(connId, out)
  redis.call('SREM', nodeKey, connId) -- even if its record was already gone, so the loop ends
end
out[1] = redis.call('SCARD', nodeKey)
return out`,

  /**
   * ARGV: base, userId, status. Returns the distinct rooms of the user ({} when offline: ignored, and when the
   * status is already this one: nothing changed).
   */
  hubbubPresenceSetStatus: `
local userId, status = ARGV[2], ARGV[3]
local userKey = key('user', userId)
if redis.call('EXISTS', userKey) == 0 then return {} end
if redis.call('HGET', userKey, 'status') == status then return {} end
redis.call('HSET', userKey, 'status', status)
local seen, rooms = {}, {}
for _, connId in ipairs(redis.call('SMEMBERS', key('user-conns', userId))) do
  for _, room in ipairs(redis.call('SMEMBERS', key('conn-rooms', connId))) do
    if not seen[room] then
      seen[room] = true
      rooms[#rooms + 1] = room
    end
  end
end
return rooms`,

  /**
   * ARGV: base, room[, userId]. Returns {userId, since, connections, status, name, ...} for every
   * member (or only that user), read in one consistent snapshot.
   */
  hubbubPresenceMembers: `
local room, only = ARGV[2], ARGV[3]
local sinceKey = key('room-since', room)
local out = {}
if only then
  local since = redis.call('HGET', sinceKey, only)
  if since then appendMember(out, room, only, since) end
else
  local all = redis.call('HGETALL', sinceKey)
  for i = 1, #all, 2 do appendMember(out, room, all[i], all[i + 1]) end
end
return out`,

  /** ARGV: base, userId... Returns 0|1 per user. */
  hubbubPresenceOnline: `
local out = {}
for i = 2, #ARGV do out[#out + 1] = redis.call('EXISTS', key('user-conns', ARGV[i])) end
return out`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Connections handled per dropNode script call, so one dead instance never blocks Redis for long. */
const DROP_NODE_BATCH = 200;
const MEMBER_FIELDS = 5;

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
      redis.defineCommand(name, { lua: LUA_PRELUDE + body, numberOfKeys: 0 });
    }
  }

  async connect(conn: Conn): Promise<void> {
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

  async disconnect(conn: Conn): Promise<{ room: string; userId: string }[]> {
    return pairs(asArray(await this.run('hubbubPresenceDisconnect', conn.connId)));
  }

  async join(room: string, conn: Conn): Promise<{ firstForUser: boolean; member: Member }> {
    const reply = await this.run('hubbubPresenceJoin', room, conn.connId, this.now());
    if (reply === null) throw new UnknownConnectionError(conn.connId);
    const [first, ...fields] = asArray(reply);
    return { firstForUser: Number(first) === 1, member: toMember(fields, 0) };
  }

  async leave(room: string, conn: Conn): Promise<{ lastForUser: boolean }> {
    return { lastForUser: Number(await this.run('hubbubPresenceLeave', room, conn.connId)) === 1 };
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

  async dropNode(node: string): Promise<{ room: string; userId: string }[]> {
    const vacated: { room: string; userId: string }[] = [];
    for (;;) {
      const [left, ...rest] = asArray(
        await this.run('hubbubPresenceDropNode', node, DROP_NODE_BATCH),
      );
      vacated.push(...pairs(rest));
      if (Number(left) === 0) return vacated;
    }
  }

  async roomCount(): Promise<number> {
    // A plain command: ioredis adds the client's keyPrefix itself.
    return this.redis.scard(`${this.prefix}rooms`);
  }

  /** The state is shared with the other instances and the client is the caller's: nothing to do. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  private run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    const commands = this.redis as unknown as Record<ScriptName, ScriptFn>;
    return commands[name](this.base, ...args);
  }
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`unexpected Redis reply ${String(reply)}`);
  return reply as unknown[];
}

/** Flat [room, userId, room, userId, …] → pairs. */
function pairs(flat: unknown[]): { room: string; userId: string }[] {
  const out: { room: string; userId: string }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    out.push({ room: String(flat[i]), userId: String(flat[i + 1]) });
  return out;
}

/** Reads userId, since, connections, status, name at fields[at…]. */
function toMember(fields: unknown[], at: number): Member {
  const [userId, since, connections, status, name] = fields.slice(at, at + MEMBER_FIELDS);
  return {
    userId: String(userId),
    ...(typeof name === 'string' ? { name } : {}), // a Lua false (unset) arrives as null
    status: PRESENCE_STATUSES.includes(status as PresenceStatus)
      ? (status as PresenceStatus)
      : 'online',
    connections: Number(connections ?? 0),
    since: Number(since),
  };
}
