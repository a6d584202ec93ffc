import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../cluster/redis.provider';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ActivitySampler } from './activity-sampler';
import { LocalNode, NodeDirectory, SingleNodeDirectory } from './node-directory';
import { RedisNodeDirectory } from './redis-node-directory';

/** What the dashboard's API routes read: this instance, and every instance of the cluster in cluster mode. */
export const adminProviders: Provider[] = [
  ActivitySampler,
  LocalNode,
  {
    provide: NodeDirectory,
    inject: [HUBBUB_CONFIG, REDIS, LocalNode, ActivitySampler],
    useFactory: (
      config: HubbubConfig,
      redis: Redis | null,
      local: LocalNode,
      sampler: ActivitySampler,
    ) =>
      redis
        ? new RedisNodeDirectory(config, redis, local, sampler)
        : new SingleNodeDirectory(local, sampler),
  },
];
