import { ConfigError, loadConfig } from './config';

const DB = { DATABASE_URL: 'postgres://db/x' };
const NODES = '10.0.0.1:7000, redis-b:7001,[::1]:7002';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig: Redis Cluster', () => {
  it('REDIS_CLUSTER_NODES turns on cluster mode on a Redis Cluster with 64 partitions by default', () => {
    expect(loadConfig({ ...DB, REDIS_CLUSTER_NODES: NODES }).redis).toEqual({
      cluster: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      partitions: 64,
      slotsRefreshMs: 5000,
    });
  });

  it('takes REDIS_PUBSUB_PARTITIONS, and refreshes the slot map every quarter heartbeat (250 ms at least)', () => {
    const config = loadConfig({
      ...DB,
      REDIS_CLUSTER_NODES: NODES,
      REDIS_PUBSUB_PARTITIONS: '12',
      HEARTBEAT_INTERVAL_MS: '600',
    });
    expect(config.redis).toMatchObject({ partitions: 12, slotsRefreshMs: 250 });
  });

  it('requires DATABASE_URL, naming both keys', () => {
    expect(refusal({ REDIS_CLUSTER_NODES: NODES })).toBe(
      'Invalid configuration: REDIS_CLUSTER_NODES (cluster mode) requires DATABASE_URL: instances must share one PostgreSQL message store',
    );
  });

  it.each([
    [{ REDIS_URL: 'redis://r:6379' }, 'REDIS_URL'],
    [
      { REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' },
      'REDIS_SENTINELS and REDIS_SENTINEL_NAME',
    ],
  ])('excludes %o, naming the keys', (other, named) => {
    expect(refusal({ ...DB, REDIS_CLUSTER_NODES: NODES, ...other })).toBe(
      `Invalid configuration: REDIS_CLUSTER_NODES excludes ${named}: set one way to reach Redis`,
    );
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: 'redis-a' }, 'REDIS_CLUSTER_NODES must be a comma list of host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b:99999' }, 'REDIS_CLUSTER_NODES port 99999 is out of range'],
    [{ REDIS_CLUSTER_NODES: NODES, REDIS_PUBSUB_PARTITIONS: '0' }, 'REDIS_PUBSUB_PARTITIONS'],
    [{ REDIS_CLUSTER_NODES: NODES, REDIS_PUBSUB_PARTITIONS: '2000' }, 'REDIS_PUBSUB_PARTITIONS'],
    [{ REDIS_CLUSTER_NODES: NODES, REDIS_PUBSUB_PARTITIONS: 'many' }, 'REDIS_PUBSUB_PARTITIONS'],
  ])('refuses %o in one line naming the key', (env, message) => {
    expect(refusal({ ...DB, ...env })).toContain(message);
  });
});
