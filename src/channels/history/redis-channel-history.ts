import type { Redis } from 'ioredis';
import { HISTORY_KEYS } from '../../cluster/redis-keys';
import { HubbubError } from '../../protocol/errors';
import {
  assertSince,
  ChannelHistory,
  computeRecovery,
  floorSlot,
  newEpoch,
  publicationJson,
  type Publication,
  type Recovery,
  type StreamPosition,
} from './channel-history';

export interface RedisChannelHistoryOptions {
  /**
   * Prepended to every key (after the client's own keyPrefix, if any). Give this store a namespace of
   * its own, e.g. `hubbub:history:`, not the bare app prefix other key families share.
   */
  prefix: string;
  /** Max publications retained per channel. */
  size: number;
  /** Publications are retained while now - ts < ttlMs. */
  ttlMs: number;
  /** Clock for `ts` and TTL decisions; every instance should use the same kind of clock (wall time). */
  now?: () => number;
  /** Bytes all channels' lists hold together (publicationCost each); past it the oldest go first. Default: no bound. */
  maxBytes?: number;
  /**
   * A Redis Cluster's layout: the key prefix of a channel (its partition's, so that its stream, list, meta and budget
   * share a slot; `maxBytes` then bounds each partition). Default: `prefix` for every channel.
   */
  prefixOf?: (channel: string) => string;
  /**
   * Acknowledge a publication only once a replica has it: `waitFor(key)` runs `WAIT 1 <timeout>` on the connection
   * to the master that took the write of `key` and answers how many replicas have it, or undefined when the
   * deployment has none (then there is nothing to wait for). A failover can then not take back an offset a
   * subscriber was pushed, which a later publication would reuse with other data behind a `recovered: true`.
   */
  replicaAck?: { timeoutMs: number; waitFor: (key: string) => Promise<number | undefined> };
}

/**
 * A publication no replica acknowledged in time is not pushed (a failover could lose it, see replicaAck): the
 * publisher is answered `overloaded` (try again later).
 */
function unreplicated(timeoutMs: number): HubbubError {
  return new HubbubError(
    'overloaded',
    `No Redis replica acknowledged the publication within ${timeoutMs} ms`,
  );
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Key layout, under `<prefix>` (names in cluster/redis-keys.ts, HISTORY_KEYS; channel last, so channel names
 * cannot collide):
 *
 *   stream:<channel>  hash    `offset` (the channel's latest offset, HINCRBY) and `epoch`: one key, so the two are
 *                             kept and lost together. Created by the channel's first publish (never by a read) and
 *                             expires OFFSET_TTL after the last one, i.e. much later than the list.
 *   pubs:<channel>    list    retained publications as JSON, oldest first (contiguous offsets),
 *                             at most `size`, expires ttlMs after the last publish.
 *   meta              hash    `gen`: random, drawn once (lost with Redis's data); `bytes`: what the lists hold
 *                             together; `f<slot>`: the highest offset any channel hashed to that slot reached.
 *   budget            zset    one member `<offset>:<cost>:<channel>` per retained publication, scored by its ts:
 *                             the oldest go first when `bytes` passes the bound (CHANNEL_HISTORY_MAX_BYTES).
 *
 * Each list entry is `{"ts":<ts>,"offset":<n>,...rest}`: the script writes ts and offset in front of the JSON the
 * caller built (channel, data, userId), so it can read them back without decoding data. Its cost is `#rest + 64`,
 * the same as the memory twin's publicationCost.
 *
 * Epochs without state: a channel's epoch is derived from `gen` and its name, so a subscribe to a channel nobody
 * published to answers offset and epoch without writing anything for the channel, and the first publish creates
 * the stream with that very epoch. Offsets never restart while `gen` lives: a stream created again (expired, or
 * its hash lost) continues from its slot's floor, like MemoryChannelHistory's forgotten channels. When Redis loses
 * its data, `gen` goes with it: new epochs.
 */
const COMMON_LUA = `
local OVERHEAD = 64
local function generation(metaKey, candidate)
  local gen = redis.call('HGET', metaKey, 'gen')
  if gen then return gen end
  redis.call('HSET', metaKey, 'gen', candidate)
  return candidate
end
local function epochOf(gen, channel)
  return string.sub(redis.sha1hex(gen .. '|' .. channel), 1, 16)
end
local function entryOffset(entry)
  return tonumber(string.match(entry, '^{"ts":[^,]+,"offset":(%d+),'))
end
-- Removes a channel's oldest retained publication from its list, the budget and the byte count.
local function popHead(listKey, budgetKey, metaKey, channel)
  local head = redis.call('LPOP', listKey)
  if not head then return end
  local header, offset = string.match(head, '^({"ts":[^,]+,"offset":(%d+),)')
  local cost = #head - #header + 1 + OVERHEAD
  redis.call('ZREM', budgetKey, offset .. ':' .. string.format('%d', cost) .. ':' .. channel)
  redis.call('HINCRBY', metaKey, 'bytes', -cost)
end
`;

const PUBLISH_LUA = `${COMMON_LUA}
-- KEYS: stream, list, meta, budget. ARGV: size, ttlMs, offsetTtlMs, now, JSON of {channel, data, userId?},
-- gen candidate, channel, slot, maxBytes, list key prefix
local streamKey, listKey, metaKey, budgetKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local size, ttl, offsetTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nowText, rest = ARGV[4], ARGV[5]
local now = tonumber(nowText)
local channel, floorField, maxBytes, listPrefix = ARGV[7], 'f' .. ARGV[8], tonumber(ARGV[9]), ARGV[10]

local gen = generation(metaKey, ARGV[6])
local floor = tonumber(redis.call('HGET', metaKey, floorField) or '0')
if redis.call('EXISTS', streamKey) == 0 then
  redis.call('HSET', streamKey, 'epoch', epochOf(gen, channel), 'offset', floor)
  -- A list left from an older stream: its offsets may not continue these.
  while redis.call('LLEN', listKey) > 0 do popHead(listKey, budgetKey, metaKey, channel) end
end
local offset = redis.call('HINCRBY', streamKey, 'offset', 1)
redis.call('PEXPIRE', streamKey, offsetTtl)
if offset > floor then redis.call('HSET', metaKey, floorField, offset) end

local cost = #rest + OVERHEAD
if size > 0 and cost <= maxBytes then
  -- rest starts with '{': splice ts and offset in as the first fields.
  local entry = '{"ts":' .. nowText .. ',"offset":' .. string.format('%d', offset) .. ','
  redis.call('RPUSH', listKey, entry .. string.sub(rest, 2))
  redis.call('ZADD', budgetKey, now, string.format('%d:%d:', offset, cost) .. channel)
  redis.call('HINCRBY', metaKey, 'bytes', cost)
end
while redis.call('LLEN', listKey) > size do popHead(listKey, budgetKey, metaKey, channel) end
-- Drop expired entries from the head (oldest first) by the caller's clock. Entries from several
-- instances are only roughly ts-ordered; recover() re-checks, so stopping at the first fresh one is fine.
while true do
  local head = redis.call('LINDEX', listKey, 0)
  if not head then break end
  local ts = tonumber(string.match(head, '^{"ts":([^,]+),'))
  if ts == nil or now - ts < ttl then break end
  popHead(listKey, budgetKey, metaKey, channel)
end
-- Key expiry only reclaims idle channels; rounded up so it never cuts into the window.
redis.call('PEXPIRE', listKey, math.ceil(ttl))

-- Over the bound: the oldest publications of any channel go first (with any older ones of their channel).
while tonumber(redis.call('HGET', metaKey, 'bytes') or '0') > maxBytes do
  local oldest = redis.call('ZRANGE', budgetKey, 0, 0)[1]
  if not oldest then
    redis.call('HSET', metaKey, 'bytes', 0)
    break
  end
  local off, c, ch = string.match(oldest, '^(%d+):(%d+):(.*)$')
  off = tonumber(off)
  local lk = listPrefix .. ch
  while true do
    local head = redis.call('LINDEX', lk, 0)
    if not head or entryOffset(head) > off then break end
    popHead(lk, budgetKey, metaKey, ch)
  end
  -- Its list expired (or was lost) meanwhile: only the accounting is left.
  if redis.call('ZREM', budgetKey, oldest) == 1 then redis.call('HINCRBY', metaKey, 'bytes', -tonumber(c)) end
end
return offset`;

/**
 * Reads offset, epoch and list at one point between two publishes. A channel without stream state (never published
 * to, or idle past OFFSET_TTL) is answered from `gen` and its slot's floor, and nothing is written for it.
 */
const RECOVER_LUA = `${COMMON_LUA}
-- KEYS: stream, list, meta. ARGV: gen candidate, channel, slot
local state = redis.call('HMGET', KEYS[1], 'offset', 'epoch')
if state[1] then return { state[1], state[2], redis.call('LRANGE', KEYS[2], 0, -1) } end
local gen = generation(KEYS[3], ARGV[1])
return { redis.call('HGET', KEYS[3], 'f' .. ARGV[3]) or '0', epochOf(gen, ARGV[2]), {} }`;

const PUBLISH_COMMAND = 'hubbubHistoryPublish2';
const RECOVER_COMMAND = 'hubbubHistoryRecover2';

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/**
 * Cluster-wide channel history in Redis: every instance publishing to a channel draws from the same
 * offset counter and recovers from the same window. Same answers as MemoryChannelHistory (both go
 * through computeRecovery). TTL is judged by the injected clock (entries carry ts); key expiry only
 * reclaims memory of idle channels. The ioredis client belongs to the caller: close() leaves it open.
 */
export class RedisChannelHistory extends ChannelHistory {
  private readonly size: number;
  private readonly ttlMs: number;
  /**
   * The offset counter outlives the window by far, so that idle channels keep their epoch and a caught-up
   * client still recovers. After this long with neither publish nor subscribe the stream is forgotten; a
   * client that stayed away that long comes back to a new epoch and gets recovered false.
   */
  private readonly offsetTtlMs: number;
  private readonly now: () => number;
  private readonly maxBytes: number;
  private readonly prefixOf: (channel: string) => string;
  private readonly replicaAck: RedisChannelHistoryOptions['replicaAck'];

  constructor(
    private readonly redis: Redis,
    opts: RedisChannelHistoryOptions,
  ) {
    super();
    if (!Number.isSafeInteger(opts.size) || opts.size < 0)
      throw new RangeError('size must be an integer >= 0');
    // Finite: Redis key expiry needs a bound (the memory twin alone accepts Infinity).
    if (!(opts.ttlMs > 0 && Number.isFinite(opts.ttlMs)))
      throw new RangeError('ttlMs must be a finite number > 0');
    this.prefixOf = opts.prefixOf ?? (() => opts.prefix);
    this.replicaAck = opts.replicaAck;
    this.size = opts.size;
    this.ttlMs = opts.ttlMs;
    this.offsetTtlMs = Math.ceil(Math.max(opts.ttlMs * 10, DAY_MS));
    this.now = opts.now ?? Date.now;
    // Lua compares numbers as doubles: "no bound" is the largest safe integer.
    this.maxBytes = Math.min(opts.maxBytes ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (!(this.maxBytes >= 0)) throw new RangeError('maxBytes must be >= 0');
    // Redefining on a shared client is harmless (same name, same script): EVALSHA, EVAL fallback.
    redis.defineCommand(PUBLISH_COMMAND, { lua: PUBLISH_LUA, numberOfKeys: 4 });
    redis.defineCommand(RECOVER_COMMAND, { lua: RECOVER_LUA, numberOfKeys: 3 });
  }

  async publish(channel: string, data: unknown, userId?: string): Promise<Publication> {
    const ts = this.now();
    // Throws (→ rejection) for what JSON cannot carry, e.g. a BigInt: other instances read it back.
    const rest = publicationJson(channel, data, userId);
    const prefix = this.prefixOf(channel);
    const args = [
      prefix + HISTORY_KEYS.stream + channel,
      prefix + HISTORY_KEYS.list + channel,
      prefix + HISTORY_KEYS.meta,
      prefix + HISTORY_KEYS.budget,
      this.size,
      this.ttlMs,
      this.offsetTtlMs,
      String(ts),
      rest,
      newEpoch(),
      channel,
      floorSlot(channel),
      this.maxBytes,
      prefix + HISTORY_KEYS.list,
    ];
    const offset = Number(await this.script(PUBLISH_COMMAND)(...args));
    if (this.replicaAck) {
      const acks = await this.replicaAck.waitFor(String(args[0]));
      if (acks !== undefined && acks < 1) throw unreplicated(this.replicaAck.timeoutMs);
    }
    return Object.freeze({
      channel,
      offset,
      data,
      ts,
      ...(userId === undefined ? {} : { userId }),
    });
  }

  async recover(channel: string, since?: StreamPosition): Promise<Recovery> {
    assertSince(since);
    const prefix = this.prefixOf(channel);
    const [offset, epoch, list] = (await this.script(RECOVER_COMMAND)(
      prefix + HISTORY_KEYS.stream + channel,
      prefix + HISTORY_KEYS.list + channel,
      prefix + HISTORY_KEYS.meta,
      newEpoch(),
      channel,
      floorSlot(channel),
    )) as [string, string, string[]];
    const entries = list.map((e) => JSON.parse(e) as Publication);
    return computeRecovery(Number(offset), epoch, this.retained(entries, this.now()), since);
  }

  /** The state is shared with the other instances and the client is the caller's: nothing to do. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Drops everything up to the LAST expired entry (not only expired ones), so what remains is a
   * contiguous run of offsets even if instances' clocks disagree a little, as computeRecovery needs.
   */
  private retained(entries: Publication[], now: number): Publication[] {
    let start = 0;
    for (let i = 0; i < entries.length; i++) if (now - entries[i].ts >= this.ttlMs) start = i + 1;
    return entries.slice(start);
  }

  private script(name: string): ScriptFn {
    const fn = (this.redis as unknown as Record<string, ScriptFn>)[name];
    return fn.bind(this.redis);
  }
}
