import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { EventBus } from '../events/event-bus';
import { RedisConnectionQuota } from '../quota/redis-connection-quota';
import { RedisKeys } from '../cluster/redis-keys';
import { REDIS } from '../cluster/redis.provider';

const NODES_KEY = RedisKeys.nodes;
const aliveKey = RedisKeys.nodeAlive;
const reapLockKey = RedisKeys.reapLock;

/**
 * Instance liveness in cluster mode. Each instance refreshes `hubbub:node:<id>` (TTL = one heartbeat interval)
 * every third of an interval and, on the same tick, looks for members of `hubbub:nodes` whose key expired.
 * The first instance to take a dead node's reap lock removes its connections from presence (pushing
 * `presence.leave`), its connection counts and its routes. Detection takes at most TTL + one tick, inside the
 * contract's 2 × HEARTBEAT_INTERVAL_MS.
 *
 * After Redis comes back from a restart (empty), the instance writes its own state again: liveness, presence
 * of its connections, connection counts (the broker rewrites its routes itself).
 */
@Injectable()
export class NodeLiveness implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NodeLiveness.name);
  private timer?: NodeJS.Timeout;
  private readonly ttlMs: number;
  private lostRedis = false;
  /** False from a Redis outage until this instance's state is written back; readiness waits for it. */
  synced = true;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly quota: RedisConnectionQuota,
    private readonly bus: EventBus,
  ) {
    this.ttlMs = config.heartbeatIntervalMs;
  }

  onApplicationBootstrap(): void {
    const lost = (): void => {
      this.lostRedis = true;
      this.synced = false;
    };
    this.redis.on('error', lost);
    this.redis.on('close', lost);
    this.redis.on('ready', () => {
      if (!this.lostRedis) return;
      this.lostRedis = false;
      void this.resync();
    });
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    // A clean stop: leave nothing for the others to reap.
    try {
      await this.reap(this.config.nodeId);
      await this.redis
        .pipeline()
        .del(aliveKey(this.config.nodeId))
        .srem(NODES_KEY, this.config.nodeId)
        .exec();
    } catch {
      // Redis down: the others reap this node once it is back.
    }
  }

  private async tick(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    const self = this.config.nodeId;
    try {
      await this.redis
        .pipeline()
        .set(aliveKey(self), Date.now(), 'PX', this.ttlMs)
        .sadd(NODES_KEY, self)
        .exec();
      const nodes = await this.redis.smembers(NODES_KEY);
      for (const node of nodes) {
        if (node === self) continue;
        if ((await this.redis.exists(aliveKey(node))) === 1) continue;
        const locked = await this.redis.set(reapLockKey(node), self, 'PX', this.ttlMs * 2, 'NX');
        if (locked !== 'OK') continue;
        this.logger.warn(
          `instance ${node} stopped refreshing its liveness key: removing its connections`,
        );
        await this.reap(node);
        await this.redis.srem(NODES_KEY, node);
      }
    } catch (err) {
      this.logger.warn(`liveness tick failed: ${String(err)}`);
    }
  }

  private async reap(node: string): Promise<void> {
    await this.bus.emit('cluster.node-gone', { node });
    await RedisConnectionQuota.dropNode(this.redis, node);
    const topics = await this.redis.smembers(RedisKeys.nodeTopics(node));
    const pipeline = this.redis.pipeline();
    for (const topic of topics) pipeline.srem(RedisKeys.route(topic), node);
    pipeline.del(RedisKeys.nodeTopics(node));
    await pipeline.exec();
  }

  /** Redis lost what this instance had written: write it again (every step is idempotent). */
  private async resync(): Promise<void> {
    this.logger.log("Redis is back: rewriting this instance's presence and connection counts");
    try {
      await this.tick();
      await this.quota.rewrite();
      await this.bus.emitOrThrow('cluster.state-lost', { node: this.config.nodeId });
      this.synced = true;
    } catch (err) {
      this.logger.warn(`resync failed, retrying on the next reconnect: ${String(err)}`);
      this.lostRedis = true;
    }
  }
}
