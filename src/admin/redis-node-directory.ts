import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisKeys, type RedisKeyspace } from '../cluster/redis-keys';
import { REDIS } from '../cluster/redis.provider';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ActivitySampler, mergeSamples, SAMPLE_MS, type ActivitySample } from './activity-sampler';
import { LocalNode, NodeDirectory, type NodeInfo } from './node-directory';

/** How stale another instance's figures may be. */
const MAX_REFRESH_MS = 2000;

interface StoredInfo extends Omit<NodeInfo, 'uptimeSec'> {
  startedAt: number;
}

/**
 * Cluster mode: each instance keeps a small record beside its liveness key (`hubbub:node-info:<id>`, refreshed
 * every third of a heartbeat interval and at least every 2 s, expiring like the liveness key) and its activity
 * series (`hubbub:node-activity:<id>`, written when a new 5 s bucket starts). Any instance lists the members of
 * the liveness set that still have a record.
 */
@Injectable()
export class RedisNodeDirectory
  extends NodeDirectory
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(RedisNodeDirectory.name);
  private readonly ttlMs: number;
  private timer?: NodeJS.Timeout;
  private lastActivityTs?: number;

  constructor(
    @Inject(HUBBUB_CONFIG) config: HubbubConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly local: LocalNode,
    private readonly sampler: ActivitySampler,
    /** Key layout; this.keys.nodes is the liveness set every instance adds itself to (see NodeLiveness). */
    private readonly keys: RedisKeyspace = RedisKeys,
  ) {
    super();
    this.ttlMs = config.heartbeatIntervalMs;
  }

  onApplicationBootstrap(): void {
    void this.publish();
    const every = Math.max(50, Math.min(MAX_REFRESH_MS, Math.floor(this.ttlMs / 3)));
    this.timer = setInterval(() => void this.publish(), every);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.redis.del(
        this.keys.nodeInfo(this.local.node),
        this.keys.nodeActivity(this.local.node),
      );
    } catch {
      // Redis down: the records expire by themselves.
    }
  }

  async nodes(): Promise<NodeInfo[]> {
    const self = await this.local.info();
    const others = (await this.redis.smembers(this.keys.nodes)).filter((n) => n !== self.node);
    const records =
      others.length > 0 ? await this.redis.mget(others.map((n) => this.keys.nodeInfo(n))) : [];
    const now = Date.now();
    const nodes = [self];
    for (const raw of records) {
      const record = parse<StoredInfo>(raw);
      if (!record) continue;
      const { startedAt, ...info } = record;
      nodes.push({ ...info, uptimeSec: Math.max(0, Math.floor((now - startedAt) / 1000)) });
    }
    return nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  async activity(): Promise<ActivitySample[]> {
    const self = this.local.node;
    const others = (await this.redis.smembers(this.keys.nodes)).filter((n) => n !== self);
    const records =
      others.length > 0 ? await this.redis.mget(others.map((n) => this.keys.nodeActivity(n))) : [];
    const series = records.map((raw) => parse<ActivitySample[]>(raw) ?? []);
    return mergeSamples([this.sampler.samples(), ...series]);
  }

  private async publish(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      const info = await this.local.info();
      const record: StoredInfo = {
        node: info.node,
        connections: info.connections,
        version: info.version,
        ready: info.ready,
        startedAt: this.local.startedAt,
      };
      const pipeline = this.redis
        .pipeline()
        .set(this.keys.nodeInfo(info.node), JSON.stringify(record), 'PX', this.ttlMs);
      const samples = this.sampler.samples();
      const activityTtl = Math.max(this.ttlMs, 3 * SAMPLE_MS);
      const latest = samples[samples.length - 1]?.ts;
      if (latest !== this.lastActivityTs) {
        this.lastActivityTs = latest;
        pipeline.set(this.keys.nodeActivity(info.node), JSON.stringify(samples), 'PX', activityTtl);
      } else {
        pipeline.pexpire(this.keys.nodeActivity(info.node), activityTtl);
      }
      await pipeline.exec();
    } catch (err) {
      this.logger.warn(`node record not written: ${String(err)}`);
    }
  }
}

function parse<T>(raw: string | null): T | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
