import { privateRedis, privateRedisGate } from '../../test/support/private-redis';
import { describeConnectionQuota } from './connection-quota.contract';
import { RedisConnectionQuota } from './redis-connection-quota';

privateRedisGate.describe('RedisConnectionQuota', () => {
  // A server of its own: the cluster total (`hubbub:conns:total`) has one fixed key name.
  const redis = privateRedis();

  describeConnectionQuota(
    'redis',
    async () => {
      await redis.flush();
      return {
        open: (node) => new RedisConnectionQuota(redis.client(), node),
        loseState: () => redis.flush(),
      };
    },
    { spansInstances: true },
  );
});
