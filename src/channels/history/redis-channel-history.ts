import type { Redis } from 'ioredis';
import {
  assertSince,
  ChannelHistory,
  computeRecovery,
  type Publication,
  type Recovery,
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
 *   offset:<channel>  string  the channel's latest offset (INCR). Expires OFFSET_TTL after the last
 *                             publish, i.e. much later than the list, see `offsetTtlMs`.
 *   pubs:<channel>    list    retained publications as JSON, oldest first (contiguous offsets),
 *                             at most `size`, expires ttlMs after the last publish.
 *
 * Each list entry is `{"ts":<ts>,"offset":<n>,...rest}`: the script writes ts and offset in front of
 * the JSON the caller built (channel, data, userId), so it can read ts back without decoding data.
 */
const PUBLISH_LUA = `
-- KEYS: offset key, list key. ARGV: size, ttlMs, offsetTtlMs, now, JSON of {channel, data, userId?}
local offsetKey, listKey = KEYS[1], KEYS[2]
local size, ttl, offsetTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nowText, rest = ARGV[4], ARGV[5]
local now = tonumber(nowText)

local offset = redis.call('INCR', offsetKey)
redis.call('PEXPIRE', offsetKey, offsetTtl)

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

const PUBLISH_COMMAND = 'hubbubHistoryPublish';

type PublishFn = (
  offsetKey: string,
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
   * The offset counter outlives the window by far: a client holding offset N must never see N reused,
   * which would happen if the counter expired and the channel restarted at 1. After this long with no
   * publish the channel is forgotten; a client that stayed away that long and comes back to a restarted
   * stream gets recovered false when its position is ahead of the new counter.
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
  }

  async publish(channel: string, data: unknown, userId?: string): Promise<Publication> {
    const ts = this.now();
    // Throws (→ rejection) for what JSON cannot carry, e.g. a BigInt: other instances read it back.
    const rest = JSON.stringify({ channel, data, ...(userId === undefined ? {} : { userId }) });
    const publish = (this.redis as unknown as Record<typeof PUBLISH_COMMAND, PublishFn>)[
      PUBLISH_COMMAND
    ];
    const offset = Number(
      await publish.call(
        this.redis,
        this.offsetKey(channel),
        this.listKey(channel),
        this.size,
        this.ttlMs,
        this.offsetTtlMs,
        String(ts),
        rest,
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

  async recover(channel: string, since?: number): Promise<Recovery> {
    assertSince(since);
    // One MULTI: the offset and the list are read at the same point between two publishes.
    const replies = await this.redis
      .multi()
      .get(this.offsetKey(channel))
      .lrange(this.listKey(channel), 0, -1)
      .exec();
    if (!replies) throw new Error('channel history read was aborted');
    const [[offsetErr, offsetReply], [listErr, listReply]] = replies;
    if (offsetErr) throw offsetErr;
    if (listErr) throw listErr;
    const offset = Number(offsetReply ?? 0);
    const entries = (listReply as string[]).map((e) => JSON.parse(e) as Publication);
    return computeRecovery(offset, this.retained(entries, this.now()), since);
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

  private offsetKey(channel: string): string {
    return `${this.prefix}offset:${channel}`;
  }

  private listKey(channel: string): string {
    return `${this.prefix}pubs:${channel}`;
  }
}
