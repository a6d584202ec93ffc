import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker } from '../broker/broker';
import { MemoryBroker } from '../broker/memory-broker';
import { ChannelHistory, MemoryChannelHistory } from '../channels/history/channel-history';
import { RedisChannelHistory } from '../channels/history/redis-channel-history';
import type { HubbubConfig } from '../config/config';
import { MemoryPresenceStore, PresenceStore } from '../presence/store/presence-store';
import { RedisPresenceStore } from '../presence/store/redis-presence-store';
import { ConnectionQuota, MemoryConnectionQuota } from '../ws/connection-quota';
import { NodeLiveness } from './node-liveness.service';
import { RedisBroker } from './redis-broker';
import { RedisConnectionQuota } from './redis-connection-quota';
import { connectRedis, createRedis, REDIS, REDIS_PREFIX } from './redis.provider';

const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');

/** Closes the Redis clients last, after every service that uses them has stopped. */
@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly sub: Redis,
  ) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.sub.disconnect();
  }
}

/**
 * The memory twins on one instance; in cluster mode (REDIS_URL or Sentinel) the Redis twins, so that fan-out,
 * presence, channel history and connection counts are shared by every instance.
 */
export function stateProviders(config: HubbubConfig): Provider[] {
  const historyOptions = {
    size: config.channelHistorySize,
    ttlMs: Math.max(1, config.channelHistoryTtlMs),
  };
  if (!config.redis) {
    return [
      { provide: Broker, useFactory: () => new MemoryBroker() },
      { provide: ConnectionQuota, useClass: MemoryConnectionQuota },
      { provide: PresenceStore, useFactory: () => new MemoryPresenceStore() },
      { provide: ChannelHistory, useFactory: () => new MemoryChannelHistory(historyOptions) },
    ];
  }
  const target = config.redis;
  const node = config.nodeId;
  return [
    {
      provide: REDIS,
      useFactory: async () => {
        const redis = createRedis(target, 'commands');
        await connectRedis(redis);
        return redis;
      },
    },
    {
      provide: REDIS_SUBSCRIBER,
      useFactory: async () => {
        const redis = createRedis(target, 'subscriber');
        await connectRedis(redis);
        return redis;
      },
    },
    {
      provide: Broker,
      inject: [REDIS, REDIS_SUBSCRIBER],
      useFactory: (redis: Redis, sub: Redis) => new RedisBroker(redis, sub, node),
    },
    {
      provide: RedisConnectionQuota,
      inject: [REDIS],
      useFactory: (redis: Redis) => new RedisConnectionQuota(redis, node),
    },
    { provide: ConnectionQuota, useExisting: RedisConnectionQuota },
    {
      provide: PresenceStore,
      inject: [REDIS],
      useFactory: (redis: Redis) =>
        new RedisPresenceStore(redis, { prefix: `${REDIS_PREFIX}presence:` }),
    },
    {
      provide: ChannelHistory,
      inject: [REDIS],
      useFactory: (redis: Redis) =>
        new RedisChannelHistory(redis, { prefix: `${REDIS_PREFIX}history:`, ...historyOptions }),
    },
    NodeLiveness,
    RedisLifecycle,
  ];
}
