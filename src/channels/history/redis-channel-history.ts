import type { Redis } from 'ioredis';
import {
  assertSince,
  ChannelHistory,
  computeRecovery,
  newEpoch,
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
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Key layout, under `<prefix>` (tags differ, channel last, so channel names cannot collide):
 *
 *   stream:<channel>  hash    `offset` (the channel's latest offset, HINCRBY) and `epoch` (random, written
 *                             when the hash is created): one key, so the two are kept and lost together.
 *                             Expires OFFSET_TTL after the last publish or subscribe, i.e. much later than
 *                             the list, see `offsetTtlMs`.
 *   pubs:<channel>    list    retained publications as JSON, oldest first (contiguous offsets),
 *                             at most `size`, expires ttlMs after the last publish.
 *
 * Each list entry is `{"ts":<ts>,"offset":<n>,...rest}`: the script writes ts and offset in front of
 * the JSON the caller built (channel, data, userId), so it can read ts back without decoding data.
 *
 * Whoever finds no stream hash (first publish or subscribe, or Redis lost it) creates it with the epoch
 * the caller drew, and drops any list left over from the old stream, whose offsets would collide.
 */
const ENSURE_STREAM_LUA = `
local function ensureStream(streamKey, listKey, epoch)
  if redis.call('HSETNX', streamKey, 'epoch', epoch) == 1 then
    redis.call('HSETNX', streamKey, 'offset', 0)
    redis.call('DEL', listKey)
  end
end
`;

const PUBLISH_LUA = `${ENSURE_STREAM_LUA}
-- KEYS: stream key, list key. ARGV: size, ttlMs, offsetTtlMs, now, JSON of {channel, data, userId?}, epoch
local streamKey, listKey = KEYS[1], KEYS[2]
local size, ttl, offsetTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nowText, rest = ARGV[4], ARGV[5]
local now = tonumber(nowText)

ensureStream(streamKey, listKey, ARGV[6])
local offset = redis.call('HINCRBY', streamKey, 'offset', 1)
redis.call('PEXPIRE', streamKey, offsetTtl)

if size == 0 then
  redis.call('DEL', listKey) -- nothing is retained, but the offset still counts
  return offset
end
-- rest starts with '{': splice ts and offset in as the first fields.
local entry = '{"ts":' .. nowText .. ',"offset":' .. string.format('%d', offset) .. ','
redis.call('RPUSH', listKey, entry .. string.sub(rest, 2))
redis.call('LTRIM', listKey, -size, -1)
-- Drop expired entries from the head (oldest first) by the caller's clock. Entries from several
-- instances are only roughly ts-ordered; recover() re-checks, so stopping at the first fresh one is fine.
while true do
  local head = redis.call('LINDEX', listKey, 0)
  if not head then break end
  local ts = tonumber(string.match(head, '^{"ts":([^,]+),'))
  if ts == nil or now - ts < ttl then break end
  redis.call('LPOP', listKey)
end
-- Key expiry only reclaims idle channels; rounded up so it never cuts into the window.
redis.call('PEXPIRE', listKey, math.ceil(ttl))
return offset`;

/** Reads offset, epoch and list at one point between two publishes, creating the stream when there is none. */
const RECOVER_LUA = `${ENSURE_STREAM_LUA}
-- KEYS: stream key, list key. ARGV: epoch (used only when the stream is created), offsetTtlMs
ensureStream(KEYS[1], KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
local state = redis.call('HMGET', KEYS[1], 'offset', 'epoch')
return { state[1], state[2], redis.call('LRANGE', KEYS[2], 0, -1) }`;

const PUBLISH_COMMAND = 'hubbubHistoryPublish';
const RECOVER_COMMAND = 'hubbubHistoryRecover';

type ScriptFn = (
  streamKey: string,
  listKey: string,
  ...args: (string | number)[]
) => Promise<unknown>;

/**
 * Cluster-wide channel history in Redis: every instance publishing to a channel draws from the same
 * offset counter and recovers from the same window. Same answers as MemoryChannelHistory (both go
 * through computeRecovery). TTL is judged by the injected clock (entries carry ts); key expiry only
 * reclaims memory of idle channels. The ioredis client belongs to the caller: close() leaves it open.
 */
export class RedisChannelHistory extends ChannelHistory {
  private readonly prefix: string;
  private readonly size: number;
  private readonly ttlMs: number;
  /**
   * The offset counter outlives the window by far, so that idle channels keep their epoch and a caught-up
   * client still recovers. After this long with neither publish nor subscribe the stream is forgotten; a
   * client that stayed away that long comes back to a new epoch and gets recovered false.
   */
  private readonly offsetTtlMs: number;
  private readonly now: () => number;

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
    this.prefix = opts.prefix;
    this.size = opts.size;
    this.ttlMs = opts.ttlMs;
    this.offsetTtlMs = Math.ceil(Math.max(opts.ttlMs * 10, DAY_MS));
    this.now = opts.now ?? Date.now;
    // Redefining on a shared client is harmless (same name, same script): EVALSHA, EVAL fallback.
    redis.defineCommand(PUBLISH_COMMAND, { lua: PUBLISH_LUA, numberOfKeys: 2 });
    redis.defineCommand(RECOVER_COMMAND, { lua: RECOVER_LUA, numberOfKeys: 2 });
  }

  async publish(channel: string, data: unknown, userId?: string): Promise<Publication> {
    const ts = this.now();
    // Throws (→ rejection) for what JSON cannot carry, e.g. a BigInt: other instances read it back.
    const rest = JSON.stringify({ channel, data, ...(userId === undefined ? {} : { userId }) });
    const offset = Number(
      await this.script(PUBLISH_COMMAND)(
        this.streamKey(channel),
        this.listKey(channel),
        this.size,
        this.ttlMs,
        this.offsetTtlMs,
        String(ts),
        rest,
        newEpoch(),
      ),
    );
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
    const [offset, epoch, list] = (await this.script(RECOVER_COMMAND)(
      this.streamKey(channel),
      this.listKey(channel),
      newEpoch(),
      this.offsetTtlMs,
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

  private streamKey(channel: string): string {
    return `${this.prefix}stream:${channel}`;
  }

  private listKey(channel: string): string {
    return `${this.prefix}pubs:${channel}`;
  }
}
