import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker } from '../broker/broker';
import { ChannelSubscribers } from '../channels/subscribers/channel-subscribers';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { EventBus } from '../events/event-bus';
import { ConnectionQuota } from '../quota/connection-quota';
import type { RedisKeyspace } from '../cluster/redis-keys';
import { execAll, REDIS, REDIS_KEYS } from '../cluster/redis.provider';

/** How long a reaped node's tombstone waits for the node to wake up (after that it would be a stranger). */
const TOMBSTONE_MS = 24 * 3600_000;

/**
 * Takes the reap lock of a node only while that node's liveness key is missing, in one step: once the node has
 * refreshed its key, nobody can start reaping it, so the node's own check of the lock (after its refresh) sees
 * every reap that could still remove its state.
 */
const CLAIM_REAP = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0
`;
const RELEASE_REAP = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface LivenessRedis extends Redis {
  hubbubClaimReap(alive: string, lock: string, self: string, ttlMs: number): Promise<number>;
  hubbubReleaseReap(lock: string, self: string): Promise<number>;
}

/**
 * Instance liveness in cluster mode. Each instance refreshes `hubbub:node:<id>` (TTL = one heartbeat interval)
 * every third of an interval and, on the same tick, looks for members of `hubbub:nodes` whose key expired.
 * The first instance to claim a dead node's reap lock removes its connections from presence (pushing
 * `presence.leave`), its connection counts and its routes. Detection takes at most TTL + one tick, inside the
 * contract's 2 × HEARTBEAT_INTERVAL_MS.
 *
 * This instance's own state in Redis (routes, presence of its connections, connection and subscriber counts) is
 * written again (resync) when it may be gone:
 * - Redis dropped the connection: it may have restarted empty, or failed over to a replica that had not caught up;
 * - this instance's liveness key had expired when it refreshed it (a stall, a failover that took longer than the
 *   TTL): another instance may have reaped it. The resync then waits until no reap of this instance is under way.
 * - this instance just started: a previous process under the same NODE_ID (killed, restarted at once) may have left
 *   connections, routes and counts that nobody reaped, and the tombstone of a reap of that process
 *   (`hubbub:reaped:<node>`) is not news for this one: the first resync drops the lot and forgets the tombstone.
 * Until the resync is done, `synced` is false and readiness reports 503.
 */
@Injectable()
export class NodeLiveness implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NodeLiveness.name);
  private timer?: NodeJS.Timeout;
  private readonly ttlMs: number;
  private readonly redis?: LivenessRedis;
  /** Whether this instance's liveness key was written once (a missing key before that is no news). */
  private registered = false;
  private ticking = false;
  private resyncing = false;
  private reaping = false;
  /** Counts possible losses of this instance's state: one during a resync means writing it all back again. */
  private losses = 0;
  /** False from a possible loss of this instance's state until it is written back; readiness waits for it. */
  synced = true;
  /** Whether a resync ran in this process (the first one replaces what a previous process left). */
  private resynced = false;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    @Inject(REDIS) redis: Redis | null,
    @Inject(REDIS_KEYS) private readonly keys: RedisKeyspace,
    private readonly quota: ConnectionQuota,
    private readonly broker: Broker,
    private readonly subscribers: ChannelSubscribers,
    private readonly bus: EventBus,
  ) {
    this.ttlMs = config.heartbeatIntervalMs;
    // Inert on a single instance: only cluster mode has other instances to watch.
    if (redis) {
      this.redis = redis as LivenessRedis;
      this.redis.defineCommand('hubbubClaimReap', { numberOfKeys: 2, lua: CLAIM_REAP });
      this.redis.defineCommand('hubbubReleaseReap', { numberOfKeys: 1, lua: RELEASE_REAP });
    }
  }

  onApplicationBootstrap(): void {
    if (!this.redis) return;
    this.synced = false; // what a previous process under this NODE_ID left is replaced at the first tick
    this.redis.on('error', () => this.lost());
    this.redis.on('close', () => this.lost());
    // A Redis Cluster dropped a node from its pool (a master failed over): what that master held may be gone.
    this.redis.on('-node', () => this.lost());
    this.redis.on('ready', () => void this.tick());
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    // Redis down (never reached, say): the others reap this node once it is back.
    if (this.redis?.status !== 'ready') return;
    // A clean stop: leave nothing for the others to reap.
    try {
      await this.reap(this.config.nodeId, false);
      await this.redis
        .pipeline()
        .del(this.keys.nodeAlive(this.config.nodeId))
        .srem(this.keys.nodes, this.config.nodeId)
        .exec();
    } catch {
      // Redis down: the others reap this node once it is back.
    }
  }

  /**
   * Refreshes the liveness key and starts what it calls for in the background: the refresh never waits for a
   * resync or a reap (rewriting many connections, announcing many leaves), or the key would lapse meanwhile and
   * this instance be reaped in the middle of writing its state back.
   */
  private async tick(): Promise<void> {
    const redis = this.redis;
    if (redis?.status !== 'ready' || this.ticking) return;
    this.ticking = true;
    const self = this.config.nodeId;
    try {
      const [previous, , reaping] = await execAll(
        redis
          .pipeline()
          .set(this.keys.nodeAlive(self), Date.now(), 'PX', this.ttlMs, 'GET')
          .sadd(this.keys.nodes, self)
          .exists(this.keys.reapLock(self)),
      );
      if (previous === null && this.registered) {
        if (this.synced)
          this.logger.warn('this instance was taken for dead (its liveness key had expired)');
        this.lost();
      }
      this.registered = true;
      if (!this.synced && reaping === 0 && !this.resyncing) void this.runResync(redis);
      if (!this.reaping) void this.runReaps(redis, self);
    } catch (err) {
      this.logger.warn(`liveness tick failed: ${String(err)}`);
    } finally {
      this.ticking = false;
    }
  }

  /** This instance's state in Redis may be gone (again): a resync under way does not count. */
  private lost(): void {
    this.synced = false;
    this.losses++;
  }

  private async runResync(redis: Redis): Promise<void> {
    this.resyncing = true;
    try {
      await this.resync(redis);
    } catch (err) {
      this.logger.warn(`resync failed, retried on the next tick: ${String(err)}`);
    } finally {
      this.resyncing = false;
    }
  }

  private async runReaps(redis: LivenessRedis, self: string): Promise<void> {
    this.reaping = true;
    try {
      await this.reapDead(redis, self);
    } catch (err) {
      this.logger.warn(`reap failed: ${String(err)}`);
    } finally {
      this.reaping = false;
    }
  }

  private async reapDead(redis: LivenessRedis, self: string): Promise<void> {
    for (const node of await redis.smembers(this.keys.nodes)) {
      if (node === self) continue;
      const claimed = await redis.hubbubClaimReap(
        this.keys.nodeAlive(node),
        this.keys.reapLock(node),
        self,
        this.ttlMs * 2,
      );
      if (claimed !== 1) continue;
      this.logger.warn(
        `instance ${node} stopped refreshing its liveness key: removing its connections`,
      );
      try {
        await this.reap(node, true);
        await redis.srem(this.keys.nodes, node);
      } finally {
        // If the node was only cut off, it writes its state again once this is released.
        await redis.hubbubReleaseReap(this.keys.reapLock(node), self);
      }
    }
  }

  /** `dead`: taken for dead by this instance (a tombstone tells the node, should it only have been cut off). */
  private async reap(node: string, dead: boolean): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    await this.bus.emit('cluster.node-gone', { node });
    // Each backend removes its own state of the node.
    await this.quota.dropNode(node);
    await this.broker.dropNode(node);
    await this.subscribers.dropNode(node);
    if (dead) await redis.set(this.keys.reaped(node), Date.now(), 'PX', TOMBSTONE_MS);
  }

  /** Writes this instance's state again (every step is idempotent); a failure is retried on the next tick. */
  private async resync(redis: Redis): Promise<void> {
    const losses = this.losses;
    this.logger.log("rewriting this instance's routes, presence and counts in Redis");
    await this.broker.restore();
    await this.subscribers.restore();
    await this.quota.restore();
    const node = this.config.nodeId;
    const tombstone = (await redis.exists(this.keys.reaped(node))) === 1;
    // A tombstone found by the first resync is of the previous process, whose users' leaves were announced.
    const reaped = tombstone && this.resynced;
    await this.bus.emitOrThrow('cluster.state-lost', { node, reaped });
    if (tombstone) await redis.del(this.keys.reaped(node));
    this.resynced = true;
    if (this.losses !== losses) {
      this.logger.warn('state lost again while it was rewritten: rewriting it again');
      return;
    }
    this.synced = true;
    this.logger.log('state rewritten');
  }
}
