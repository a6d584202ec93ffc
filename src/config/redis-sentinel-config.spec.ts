import { ConfigError, loadConfig } from './config';

const DB = { DATABASE_URL: 'postgres://db/x' };

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

describe('loadConfig: Redis Sentinel', () => {
  it('REDIS_SENTINELS with REDIS_SENTINEL_NAME turns on cluster mode through the sentinels', () => {
    const config = loadConfig({
      ...DB,
      REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'hubbub',
    });
    expect(config.redis).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'hubbub',
    });
    expect(config.redisUrl).toBeUndefined();
  });

  it('REDIS_URL alone gives a URL target; neither leaves cluster mode off', () => {
    expect(loadConfig({ ...DB, REDIS_URL: 'redis://r:6379' }).redis).toEqual({
      url: 'redis://r:6379',
    });
    expect(loadConfig({}).redis).toBeUndefined();
  });

  it.each([
    [
      'a sentinel without a port',
      'sentinel-a',
      /REDIS_SENTINELS must be a comma list of host:port/,
    ],
    ['an empty entry', 'a:1,,b:2', /REDIS_SENTINELS must be a comma list/],
    ['a port out of range', 'a:70000', /REDIS_SENTINELS port 70000 is out of range/],
  ])('refuses %s', (_, list, message) => {
    expect(refusal({ ...DB, REDIS_SENTINELS: list, REDIS_SENTINEL_NAME: 'm' })).toMatch(message);
  });

  it('refuses half of the pair, naming the missing key', () => {
    expect(refusal({ ...DB, REDIS_SENTINELS: 'a:26379' })).toMatch(
      /REDIS_SENTINEL_NAME is required with REDIS_SENTINELS/,
    );
    expect(refusal({ ...DB, REDIS_SENTINEL_NAME: 'm' })).toMatch(
      /REDIS_SENTINELS is required with REDIS_SENTINEL_NAME/,
    );
  });

  it('refuses REDIS_URL together with the sentinels', () => {
    expect(
      refusal({
        ...DB,
        REDIS_URL: 'redis://r:6379',
        REDIS_SENTINELS: 'a:26379',
        REDIS_SENTINEL_NAME: 'm',
      }),
    ).toMatch(/either REDIS_URL or REDIS_SENTINELS/);
  });

  it('cluster mode through Sentinel requires DATABASE_URL, as with REDIS_URL', () => {
    expect(refusal({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' })).toMatch(
      /REDIS_SENTINELS \(cluster mode\) requires DATABASE_URL/,
    );
  });
});
