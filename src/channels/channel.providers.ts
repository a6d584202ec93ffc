import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisKeys } from '../cluster/redis-keys';
import { REDIS } from '../cluster/redis.provider';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ServerSubscriptions } from './server-subscriptions';
import { ChannelSubscribers, MemoryChannelSubscribers } from './subscribers/channel-subscribers';
import { RedisChannelSubscribers } from './subscribers/redis-channel-subscribers';

/** Subscriber counts (in memory, or shared through Redis in cluster mode) and server-side subscriptions. */
export const channelProviders: Provider[] = [
  {
    provide: ChannelSubscribers,
    inject: [HUBBUB_CONFIG, REDIS],
    useFactory: (config: HubbubConfig, redis: Redis | null) =>
      redis
        ? new RedisChannelSubscribers(redis, config.nodeId, RedisKeys.nodes)
        : new MemoryChannelSubscribers(),
  },
  ServerSubscriptions,
];
