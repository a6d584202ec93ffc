import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { NODES_KEY } from '../cluster/node-liveness.service';
import { REDIS, REDIS_PREFIX } from '../cluster/redis.provider';
import type { HubbubConfig } from '../config/config';
import { ServerSubscriptions } from './server-subscriptions';
import { ChannelSubscribers, MemoryChannelSubscribers } from './subscribers/channel-subscribers';
import { RedisChannelSubscribers } from './subscribers/redis-channel-subscribers';

/** Subscriber counts (in memory, or shared through Redis in cluster mode) and server-side subscriptions. */
export function channelProviders(config: HubbubConfig): Provider[] {
  const node = config.nodeId;
  return [
    config.redisUrl
      ? {
          provide: ChannelSubscribers,
          inject: [REDIS],
          useFactory: (redis: Redis) =>
            new RedisChannelSubscribers(redis, REDIS_PREFIX, node, NODES_KEY),
        }
      : { provide: ChannelSubscribers, useFactory: () => new MemoryChannelSubscribers() },
    ServerSubscriptions,
  ];
}
