import type { Provider } from '@nestjs/common';
import type { HubbubConfig } from '../config/config';
import { ActivitySampler } from './activity-sampler';
import { LocalNode, NodeDirectory, SingleNodeDirectory } from './node-directory';
import { RedisNodeDirectory } from './redis-node-directory';

/** What the dashboard's API routes read: this instance, and every instance of the cluster in cluster mode. */
export function adminProviders(config: HubbubConfig): Provider[] {
  return [
    ActivitySampler,
    LocalNode,
    {
      provide: NodeDirectory,
      useClass: config.redisUrl ? RedisNodeDirectory : SingleNodeDirectory,
    },
  ];
}
