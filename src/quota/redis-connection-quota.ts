import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ConnectionQuota } from './connection-quota';
import { MemoryConnectionQuota } from './memory-connection-quota';
import { RedisKeys, type RedisKeyspace } from '../cluster/redis-keys';
import { execAll } from '../cluster/redis.provider';

/**
 * MAX_CONNECTIONS_PER_USER across the cluster. Each user has a hash node → count, so the connections of an
 * instance that died can be removed by node (see NodeLiveness); `hubbub:conns:total` holds node → count.
 * While Redis is unreachable the instance falls back to its own counts (fail open, bounded per instance). A
 * release with nothing held on this node (a repeated release) leaves the total alone, as the memory twin does.
 */
const ACQUIRE = `
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('SADD', KEYS[3], ARGV[3])
return 1
`;
const RELEASE = `
local held = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if held <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[2])
end
if held < 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
`;

interface QuotaRedis extends Redis {
  hubbubAcquire(
    userKey: string,
    totalKey: string,
    nodeUsersKey: string,
    node: string,
    max: number,
    userId: string,
  ): Promise<number>;
  hubbubRelease(
    userKey: string,
    totalKey: string,
    nodeUsersKey: string,
    node: string,
    userId: string,
  ): Promise<number>;
}

export class RedisConnectionQuota extends ConnectionQuota {
  private readonly logger = new Logger(RedisConnectionQuota.name);
  private readonly redis: QuotaRedis;
  /** This instance's own counts: the fallback during an outage and the source for rewriting after one. */
  private readonly local = new MemoryConnectionQuota();

  constructor(
    redis: Redis,
    private readonly node: string,
    /** Key layout: one Redis, or a cluster's (one slot for every quota key, so the scripts stay in it). */
    private readonly keys: RedisKeyspace = RedisKeys,
  ) {
    super();
    this.redis = redis as QuotaRedis;
    this.redis.defineCommand('hubbubAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    this.redis.defineCommand('hubbubRelease', { numberOfKeys: 3, lua: RELEASE });
  }

  async acquire(userId: string, max: number): Promise<boolean> {
    let granted: boolean;
    try {
      granted =
        (await this.redis.hubbubAcquire(
          this.keys.userConns(userId),
          this.keys.totalConns,
          this.keys.nodeUsers(this.node),
          this.node,
          max,
          userId,
        )) === 1;
      if (granted) await this.local.acquire(userId, Number.MAX_SAFE_INTEGER);
    } catch {
      granted = await this.local.acquire(userId, max);
    }
    return granted;
  }

  async release(userId: string): Promise<void> {
    await this.local.release(userId);
    try {
      await this.redis.hubbubRelease(
        this.keys.userConns(userId),
        this.keys.totalConns,
        this.keys.nodeUsers(this.node),
        this.node,
        userId,
      );
    } catch (err) {
      this.logger.warn(`release for a user not recorded in Redis: ${String(err)}`);
    }
  }

  async totalConnections(): Promise<number> {
    try {
      const counts = await this.redis.hvals(this.keys.totalConns);
      return counts.reduce((sum, v) => sum + Number(v), 0);
    } catch {
      return this.local.totalConnections();
    }
  }

  async userConnections(userId: string): Promise<number> {
    try {
      const counts = await this.redis.hvals(this.keys.userConns(userId));
      return counts.reduce((sum, v) => sum + Number(v), 0);
    } catch {
      return this.local.userConnections(userId);
    }
  }

  /** After Redis lost its data (restart), writes this instance's counts again; idempotent. */
  override async restore(): Promise<void> {
    // Counts released during the outage never reached Redis: start this node's share from nothing.
    await this.dropNode(this.node);
    const pipeline = this.redis.pipeline();
    let total = 0;
    for (const [userId, n] of this.local.counts()) {
      pipeline
        .hset(this.keys.userConns(userId), this.node, n)
        .sadd(this.keys.nodeUsers(this.node), userId);
      total += n;
    }
    if (total > 0) pipeline.hset(this.keys.totalConns, this.node, total);
    else pipeline.hdel(this.keys.totalConns, this.node);
    await execAll(pipeline);
  }

  /** Removes every count of an instance. */
  async dropNode(node: string): Promise<void> {
    const users = await this.redis.smembers(this.keys.nodeUsers(node));
    const pipeline = this.redis.pipeline();
    for (const userId of users) pipeline.hdel(this.keys.userConns(userId), node);
    pipeline.hdel(this.keys.totalConns, node).del(this.keys.nodeUsers(node));
    await execAll(pipeline);
  }
}
