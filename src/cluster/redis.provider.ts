import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

export const REDIS = Symbol('REDIS');

/**
 * A Redis client for cluster mode. Commands fail at once while Redis is unreachable (no offline queue): an
 * instance must keep serving its local connections during an outage instead of piling up commands, and
 * reconnects by itself with a capped backoff.
 */
export function createRedis(url: string, name: string): Redis {
  const logger = new Logger(`Redis(${name})`);
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn(`unreachable: ${err.message}`);
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.log('reconnected');
    down = false;
  });
  return redis;
}

/** Connects, or leaves the client retrying in the background when Redis is down at start. */
export async function connectRedis(redis: Redis): Promise<void> {
  try {
    await redis.connect();
  } catch {
    // retryStrategy keeps trying; readiness reports 503 until it succeeds.
  }
}
