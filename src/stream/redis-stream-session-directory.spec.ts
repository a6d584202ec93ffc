import { Redis } from 'ioredis';
import { servicesGate } from '../../test/support/services';
import { RedisStreamSessionDirectory } from './redis-stream-session-directory';
import { describeStreamSessionDirectory } from './stream-session-directory.contract';

const redis = servicesGate('redis');

redis.describe('RedisStreamSessionDirectory', () => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    await client.quit();
  });
  // Node names are random per test: the keys (one hash per node) never meet another test's.
  describeStreamSessionDirectory(
    'redis',
    () => Promise.resolve({ open: (node) => new RedisStreamSessionDirectory(client, node) }),
    { spansInstances: true },
  );
});
