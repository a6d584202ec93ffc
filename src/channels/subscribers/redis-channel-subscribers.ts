import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisKeys } from '../../cluster/redis-keys';
import { execAll } from '../../cluster/redis.provider';
import { pageOf, type ChannelListQuery, type ChannelPage } from './channel-subscribers';
import { MemoryChannelSubscribers } from './memory-channel-subscribers';

/**
 * Cluster-wide counts: each instance keeps its own counts in memory and mirrors them into its hash
 * `hubbub:chansubs:<node>` (RedisKeys.channelSubscribers) (channel → count, absolute values, so a lost write
 * heals with the next one, and NodeLiveness has the whole hash written again through restore() when Redis lost it). Readers merge the hashes of the live instances
 * (`nodesKey`, kept by NodeLiveness, which also has a dead instance's hash deleted through dropNode() when it reaps it).
 */
export class RedisChannelSubscribers extends MemoryChannelSubscribers {
  private readonly logger = new Logger(RedisChannelSubscribers.name);

  constructor(
    private readonly redis: Redis,
    private readonly node: string,
    private readonly nodesKey: string,
    /** An instance's hash: `hubbub:chansubs:<node>`, or its cluster spelling (one slot with `nodesKey`). */
    private readonly hashKey: (node: string) => string = RedisKeys.channelSubscribers,
  ) {
    super();
  }

  override add(channel: string): void {
    super.add(channel);
    this.mirror(channel);
  }

  override remove(channel: string): void {
    super.remove(channel);
    this.mirror(channel);
  }

  override async count(channel: string): Promise<number> {
    const nodes = await this.others();
    let total = this.local.get(channel) ?? 0;
    if (nodes.length === 0) return total;
    const pipeline = this.redis.pipeline();
    for (const node of nodes) pipeline.hget(this.keyOf(node), channel);
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      total += Number(value ?? 0);
    }
    return total;
  }

  override async list(query: ChannelListQuery): Promise<ChannelPage> {
    const merged = new Map(this.local);
    const nodes = await this.others();
    if (nodes.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const node of nodes) pipeline.hgetall(this.keyOf(node));
      for (const [err, hash] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        for (const [channel, n] of Object.entries(hash as Record<string, string>)) {
          merged.set(channel, (merged.get(channel) ?? 0) + Number(n));
        }
      }
    }
    return pageOf(merged, query);
  }

  /** The other live instances. */
  private async others(): Promise<string[]> {
    return (await this.redis.smembers(this.nodesKey)).filter((n) => n !== this.node);
  }

  private mirror(channel: string): void {
    if (this.redis.status !== 'ready') return; // restore() writes it once Redis is back
    const n = this.local.get(channel);
    const write =
      n === undefined
        ? this.redis.hdel(this.keyOf(this.node), channel)
        : this.redis.hset(this.keyOf(this.node), channel, n);
    write.catch((err: unknown) =>
      this.logger.warn(`subscriber count of ${channel}: ${String(err)}`),
    );
  }

  override async restore(): Promise<void> {
    const key = this.keyOf(this.node);
    const pipeline = this.redis.pipeline().del(key);
    if (this.local.size > 0) pipeline.hset(key, Object.fromEntries(this.local));
    await execAll(pipeline);
  }

  override async dropNode(node: string): Promise<void> {
    await this.redis.del(this.keyOf(node));
  }

  private keyOf(node: string): string {
    return this.hashKey(node);
  }
}
