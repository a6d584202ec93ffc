import { Logger } from '@nestjs/common';
import calculateSlot from 'cluster-key-slot';
import { type ChainableCommander, Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/config';

export const REDIS = Symbol('REDIS');
/** The key layout (RedisKeyspace) of the Redis twins: one Redis's, or a Redis Cluster's. */
export const REDIS_KEYS = Symbol('REDIS_KEYS');

const backoff = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000);

/**
 * A Redis client for cluster mode. Commands fail at once while Redis is unreachable (no offline queue): an
 * instance must keep serving its local connections during an outage instead of piling up commands, and
 * reconnects by itself with a capped backoff.
 *
 * Through Sentinel (ioredis's sentinel support), the client asks the sentinels for the current master of the
 * group, checks its ROLE on every connect, and reconnects to the new master after a failover: at once when a
 * sentinel announces `+switch-master` (failoverDetector), or on the first READONLY reply of a demoted master.
 * A subscriber connection re-subscribes its channels on the new master by itself (ioredis autoResubscribe).
 */
export function createRedis(target: RedisTarget | string, name: string): Redis {
  if (typeof target !== 'string' && 'cluster' in target) return createRedisCluster(target, name);
  const logger = new Logger(`Redis(${name})`);
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: backoff,
  };
  const redis =
    typeof target === 'string' || 'url' in target
      ? new Redis(typeof target === 'string' ? target : target.url, common)
      : new Redis({
          ...common,
          sentinels: target.sentinels,
          name: target.name,
          failoverDetector: true,
          sentinelRetryStrategy: backoff,
          // A master demoted by a failover answers writes with READONLY: reconnect (to the new master).
          reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
        });
  // One line per outage, naming the key; the subscriber's twin of it only at debug (same server, same outage).
  const key = typeof target !== 'string' && 'sentinels' in target ? 'REDIS_SENTINELS' : 'REDIS_URL';
  logOutages(redis, logger, key, name);
  return redis;
}

/** Longest a command may wait for a cluster node's answer (above the 1 s WAIT of a channel publication). */
const CLUSTER_COMMAND_TIMEOUT_MS = 2500;

/**
 * A Redis Cluster client (REDIS_CLUSTER_NODES), typed as the Redis client the twins use: ioredis's Cluster has the
 * same commands, routes each to the master of its key's slot, follows MOVED/ASK, and refreshes its slot map on
 * MOVED, on a node lost, and every `slotsRefreshMs` besides (a failover with no traffic is noticed too). The
 * subscriber (`name` 'subscriber') keeps one sharded-subscriber connection per master (ioredis
 * `shardedSubscribers`), re-subscribed on a topology change; the broker probes each (RedisShardedBroker).
 */
function createRedisCluster(
  target: Extract<RedisTarget, { cluster: unknown }>,
  name: string,
): Redis {
  const logger = new Logger(`Redis(${name})`);
  const cluster = new Cluster(target.cluster, {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: backoff,
    slotsRefreshInterval: target.slotsRefreshMs,
    // A frozen node asked for the slot map must not hold the refresh up for long: the next node is asked.
    slotsRefreshTimeout: Math.min(2000, Math.max(500, 2 * target.slotsRefreshMs)),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 200,
    shardedSubscribers: name === 'subscriber',
    // A master that stops answering without closing its connections (frozen, cut off) must not hold a command for
    // ever: the cluster fails it over, and the slot map, refreshed, sends the next commands to the new master.
    redisOptions: {
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      commandTimeout: CLUSTER_COMMAND_TIMEOUT_MS,
    },
  });
  logOutages(cluster, logger, 'REDIS_CLUSTER_NODES', name);
  // The twins are written against the Redis client's API, which the Cluster client shares command for command.
  return cluster as unknown as Redis;
}

function logOutages(redis: Redis | Cluster, logger: Logger, key: string, name: string): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) {
      const line = `Redis (${key}) unreachable: ${err.message}; retrying until it answers`;
      if (name === 'subscriber') logger.debug(line);
      else logger.warn(line);
    }
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.log('reconnected');
    down = false;
  });
}

/** Connects, or leaves the client retrying in the background when Redis is down at start. */
export async function connectRedis(redis: Redis): Promise<void> {
  try {
    await redis.connect();
  } catch {
    // retryStrategy keeps trying; readiness reports 503 until it succeeds.
  }
}

/** Runs a pipeline and throws the first command's error: ioredis only reports them in the replies. */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, value]) => value);
}

/**
 * On a Redis Cluster client: `WAIT 1 timeoutMs` on the connection to the master serving `key` (the one that took
 * the caller's last write of it), answering how many replicas acknowledged; undefined when, as far as the slot map
 * (CLUSTER SLOTS, which leaves out failed replicas) tells, that master has no replica: then no failover can take
 * the write back (a replica that attaches later copies it). ioredis sends a keyless WAIT to any node, hence the
 * node looked up here.
 */
export async function waitForReplica(
  redis: Redis,
  key: string,
  timeoutMs: number,
): Promise<number | undefined> {
  const cluster = redis as unknown as Cluster;
  const owners = cluster.slots[calculateSlot(key)];
  if (!owners || owners.length < 2) return undefined;
  const node = cluster
    .nodes('master')
    .find((n) => `${n.options.host}:${n.options.port}` === owners[0]);
  if (!node) return 0;
  return node.wait(1, timeoutMs);
}
