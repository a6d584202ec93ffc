/**
 * The Lua scripts of RedisPresenceStore (key layout and rules: see redis-presence-store.ts). Every mutation is
 * one script, so concurrent instances see exact first/last transitions, each numbered once (transition()).
 */
export const LUA_PRELUDE = `
local base = ARGV[1]
local roomsKey = base .. 'rooms'
local function key(tag, id) return base .. tag .. ':' .. id end

-- Numbers a member transition: '<epoch>:<n>', unique in this Redis's history, and returns n as well (a member's
-- \`v\`). Epoch and counter live in one hash, so they are lost together: a Redis restarted empty starts a new epoch,
-- never reuses an id, and starts n at the time in microseconds, above every n it handed out before (a counter
-- does not run faster than a microsecond clock), so a (room, user)'s \`v\` keeps growing across that loss too.
local function transition()
  local k = base .. 'transitions'
  if redis.call('HEXISTS', k, 'epoch') == 0 then
    local t = redis.call('TIME')
    redis.call('HSET', k, 'epoch', t[1] .. '.' .. t[2], 'n', t[1] .. string.format('%06d', tonumber(t[2])))
  end
  redis.call('EXPIRE', k, 86400) -- an idle day forgets it: the next transition starts a new epoch (ids stay unique)
  -- As a string: Lua's own number formatting keeps 14 digits only.
  local n = string.format('%.0f', redis.call('HINCRBY', k, 'n', 1))
  return redis.call('HGET', k, 'epoch') .. ':' .. n, n
end

-- Users whose leave of a room was announced, by time (ms), kept for LEFT_MS: a resync that writes one of them
-- back announces the join again; a user written back without one was never announced gone (silent).
local LEFT_MS = 3600000
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function markLeft(room, userId)
  local k, now = key('left', room), nowMs()
  redis.call('ZADD', k, now, userId)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - LEFT_MS)
  redis.call('PEXPIRE', k, LEFT_MS)
end

-- Removes one connection from one room. Returns false when the connection was not in the room or
-- others of the user remain; else (the member is gone) the transition id, 1 when the room is now empty
-- (vacated) else 0, and the leave's v. \`silent\`: the caller announces the leave only once confirmed (resync).
local function leaveRoom(room, connId, silent)
  local roomKey = key('room', room)
  local userId = redis.call('HGET', roomKey, connId)
  if not userId then return false end
  redis.call('HDEL', roomKey, connId)
  redis.call('SREM', key('conn-rooms', connId), room)
  local countKey = key('room-count', room)
  if redis.call('HINCRBY', countKey, userId, -1) > 0 then return false end
  redis.call('HDEL', countKey, userId)
  redis.call('HDEL', key('room-since', room), userId)
  redis.call('HDEL', key('room-v', room), userId)
  local vacated = 0
  if redis.call('EXISTS', roomKey) == 0 then
    redis.call('SREM', roomsKey, room)
    vacated = 1
  end
  if not silent then markLeft(room, userId) end
  local id, n = transition()
  return id, vacated, n
end

-- Forgets a connection: leaves all its rooms, unlinks it from its user and node, and drops the user
-- (status, name) with its last connection. Appends room, userId, transition id, room vacated (1|0), v for
-- every room the user left entirely.
local function disconnectConn(connId, out, silent)
  local connKey = key('conn', connId)
  local userId, node = unpack(redis.call('HMGET', connKey, 'userId', 'node'))
  if not userId then return end -- already gone (e.g. dropNode ran first): nothing to report twice
  local connRooms = key('conn-rooms', connId)
  for _, room in ipairs(redis.call('SMEMBERS', connRooms)) do
    local id, vacated, n = leaveRoom(room, connId, silent)
    if id then
      out[#out + 1] = room
      out[#out + 1] = userId
      out[#out + 1] = id
      out[#out + 1] = vacated
      out[#out + 1] = n
    end
  end
  redis.call('DEL', connKey, connRooms)
  if node then redis.call('SREM', key('node-conns', node), connId) end
  local userConns = key('user-conns', userId)
  redis.call('SREM', userConns, connId)
  if redis.call('EXISTS', userConns) == 0 then redis.call('DEL', key('user', userId)) end
end

-- Appends userId, since, connections, status, name (false when unset), v of a room member.
local function appendMember(out, room, userId, since)
  local status, name = unpack(redis.call('HMGET', key('user', userId), 'status', 'name'))
  out[#out + 1] = userId
  out[#out + 1] = since
  out[#out + 1] = redis.call('HGET', key('room-count', room), userId)
  out[#out + 1] = status
  out[#out + 1] = name
  out[#out + 1] = redis.call('HGET', key('room-v', room), userId)
end
`;

export const SCRIPTS = {
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

  /** ARGV: base, connId. Returns {room, userId, transition, vacated, v, ...} for the rooms the user left. */
  hubbubPresenceDisconnect: `
local out = {}
disconnectConn(ARGV[2], out, false)
return out`,

  /**
   * ARGV: base, room, connId, now, mode ('join'|'resync'|'fresh'). Returns false for an unknown connection, else
   * {announce (0|1), transition id (false unless first), room occupied by it (0|1), userId, since, connections,
   * status, name, v}. announce: the user's first connection in the room; on a resync, only when the user's leave
   * had been announced (else the resync writes back a membership the store lost, silently), or the join was never
   * recorded ('fresh').
   */
  hubbubPresenceJoin: `
local room, connId, now, mode = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- The stored connection is authoritative for userId, whatever the caller passes now.
local userId = redis.call('HGET', key('conn', connId), 'userId')
if not userId then return false end
local first, id, occupied = 0, false, 0
if redis.call('HSETNX', key('room', room), connId, userId) == 1 then -- else: already joined
  redis.call('SADD', key('conn-rooms', connId), room)
  redis.call('SADD', roomsKey, room)
  if redis.call('HINCRBY', key('room-count', room), userId, 1) == 1 then
    redis.call('HSET', key('room-since', room), userId, now)
    local n
    id, n = transition()
    redis.call('HSET', key('room-v', room), userId, n)
    first = 1
    local wasLeft = redis.call('ZREM', key('left', room), userId) == 1
    if mode == 'resync' and not wasLeft then first = 0 end
    if redis.call('HLEN', key('room-since', room)) == 1 then occupied = 1 end
  end
end
local out = {first, id, occupied}
appendMember(out, room, userId, redis.call('HGET', key('room-since', room), userId))
return out`,

  /**
   * ARGV: base, room, connId. Returns {1, transition id, vacated (0|1), v} when the user has no connection
   * left in the room, else {0}.
   */
  hubbubPresenceLeave: `
local id, vacated, n = leaveRoom(ARGV[2], ARGV[3], false)
if id then return {1, id, vacated, n} end
return {0}`,

  /**
   * ARGV: base, room, userId. After a silent drop (resync): when the user is not in the room and no leave of it was
   * announced since, records the leave as announced and returns {v, room empty (0|1)}; else {}.
   */
  hubbubPresenceConfirmLeft: `
local room, userId = ARGV[2], ARGV[3]
if redis.call('HEXISTS', key('room-since', room), userId) == 1 then return {} end
if redis.call('ZSCORE', key('left', room), userId) then return {} end
markLeft(room, userId)
local _, n = transition()
return {n, redis.call('EXISTS', key('room', room)) == 0 and 1 or 0}`,

  /**
   * ARGV: base, node, batch, silent ('1'|'0'). Disconnects up to `batch` connections of the node; returns
   * {connections still left on the node, room, userId, transition, vacated, v, ...}. Batches keep each
   * script short.
   */
  hubbubPresenceDropNode: `
local nodeKey = key('node-conns', ARGV[2])
local out = {0}
for _, connId in ipairs(redis.call('SRANDMEMBER', nodeKey, tonumber(ARGV[3]))) do
  disconnectConn(connId, out, ARGV[4] == '1')
  redis.call('SREM', nodeKey, connId) -- even if its record was already gone, so the loop ends
end
out[1] = redis.call('SCARD', nodeKey)
return out`,

  /**
   * ARGV: base, userId, status. Returns the distinct rooms of the user ({} when offline: ignored); the user's v
   * grows in each of them.
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
      local _, n = transition()
      redis.call('HSET', key('room-v', room), userId, n)
    end
  end
end
return rooms`,

  /**
   * ARGV: base, room[, userId]. Returns {userId, since, connections, status, name, v, ...} for every
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
