import type { Redis } from 'ioredis';
import { privateRedis, privateRedisGate } from '../../test/support/private-redis';
import type { Broker } from './broker';
import { describeBroker } from './broker.contract';
import { RedisBroker } from './redis-broker';

privateRedisGate.describe('RedisBroker', () => {
  const redis = privateRedis();
  const commands = new WeakMap<Broker, Redis>();

  describeBroker(
    'redis',
    () => ({
      open(node) {
        const cmd = redis.client();
        const broker = new RedisBroker(cmd, redis.client(), node);
        commands.set(broker, cmd);
        return broker;
      },
      // Redis runs one client's commands in order: a PING answered means the interest before it was written.
      settle: async (broker) => void (await commands.get(broker)!.ping()),
      loseState: () => redis.flush(),
    }),
    { spansInstances: true },
  );
});
