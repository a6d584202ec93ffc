import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker } from '../broker/broker';
import { MemoryBroker } from '../broker/memory-broker';
import { RedisBroker } from '../broker/redis-broker';
import { ShardedRedisBroker } from '../broker/sharded-redis-broker';
import { tracedBroker } from '../broker/traced-broker';
import { ActivitySampler } from '../admin/activity-sampler';
import { MemoryNodeDirectory } from '../admin/memory-node-directory';
import { LocalNode, NodeDirectory } from '../admin/node-directory';
import { RedisNodeDirectory } from '../admin/redis-node-directory';
import { ChannelHistory } from '../channels/history/channel-history';
import { MemoryChannelHistory } from '../channels/history/memory-channel-history';
import { RedisChannelHistory } from '../channels/history/redis-channel-history';
import { ChannelSubscribers } from '../channels/subscribers/channel-subscribers';
import { MemoryChannelSubscribers } from '../channels/subscribers/memory-channel-subscribers';
import { RedisChannelSubscribers } from '../channels/subscribers/redis-channel-subscribers';
import {
  clusterKeyspace,
  PartitionKeys,
  RedisKeys,
  type RedisKeyspace,
} from '../cluster/redis-keys';
import { RedisPartitions } from '../cluster/redis-partitions';
import {
  connectRedis,
  createRedis,
  REDIS,
  REDIS_KEYS,
  waitForReplica,
} from '../cluster/redis.provider';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { storeUnreachable } from '../config/startup-checks';
import { MemoryPresenceStore } from '../presence/store/memory-presence-store';
import { PresenceStore } from '../presence/store/presence-store';
import { RedisPresenceStore } from '../presence/store/redis-presence-store';
import { ConnectionQuota } from '../quota/connection-quota';
import { MemoryConnectionQuota } from '../quota/memory-connection-quota';
import { RedisConnectionQuota } from '../quota/redis-connection-quota';
import { MessageEdits } from '../store/message-edits';
import { MessageStore } from '../store/message-store';
import { ModerationStore } from '../store/moderation-store';
import { PostgresModerationStore } from '../store/postgres-moderation-store';
import { SqliteModerationStore } from '../store/sqlite-moderation-store';
import { MemorySlowModeGate } from '../quota/memory-slow-mode-gate';
import { RedisSlowModeGate } from '../quota/redis-slow-mode-gate';
import { SlowModeGate } from '../quota/slow-mode-gate';
import { PostgresMessageEdits } from '../store/postgres-message-edits';
import { SqliteMessageEdits } from '../store/sqlite-message-edits';
import { PostgresMessageStore } from '../store/postgres-message-store';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { tracedMessageStore } from '../store/traced-store';
import { MemoryStreamSessionDirectory } from '../stream/memory-stream-session-directory';
import { RedisStreamSessionDirectory } from '../stream/redis-stream-session-directory';
import { StreamSessionDirectory } from '../stream/stream-session-directory';
import { Tracing } from '../tracing/tracing.service';
import { WebhookOutbox } from '../store/webhook-outbox';
import { PostgresReadMarkers } from '../chat/postgres-read-markers';
import { ReadMarkers } from '../chat/read-markers';
import { SqliteReadMarkers } from '../chat/sqlite-read-markers';
import { PostgresRetentionStore } from '../store/postgres-retention-store';
import { PostgresUserMessageStore } from '../store/postgres-user-message-store';
import { RetentionStore } from '../store/retention-store';
import { SqliteRetentionStore } from '../store/sqlite-retention-store';
import { SqliteUserMessageStore } from '../store/sqlite-user-message-store';
import { UserMessageStore } from '../store/user-message-store';

const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');

/** How long a channel publication waits for a replica's acknowledgement on a Redis Cluster. */
const REPLICA_ACK_MS = 1000;

/** How often the in-memory channel history forgets idle channels. */
const HISTORY_PRUNE_MS = 10_000;

/**
 * Closes what the backends hold once the connections are gone (Nest runs application-shutdown hooks last):
 * the channel history, then the message store (flushing a pending group commit).
 */
@Injectable()
class StoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(MessageStore) private readonly store: MessageStore,
    @Inject(ChannelHistory) private readonly history: ChannelHistory,
    @Inject(ModerationStore) private readonly moderation: ModerationStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.history.close();
    await this.moderation.close();
    await this.store.close();
  }
}

/** Closes the Redis clients (cluster mode) last, after every service that uses them has stopped. */
@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    @Inject(REDIS_SUBSCRIBER) private readonly sub: Redis | null,
  ) {}

  onApplicationShutdown(): void {
    this.redis?.disconnect();
    this.sub?.disconnect();
  }
}

/**
 * The one place that chooses every backend from the configuration:
 *
 * | concept           | single instance          | cluster (REDIS_URL / Sentinel / REDIS_CLUSTER_NODES) |
 * | ----------------- | ------------------------ | ----------------------- |
 * | MessageStore      | SQLite, or PostgreSQL with DATABASE_URL | PostgreSQL |
 * | WebhookOutbox     | the message store itself (same transaction as `message.created`) | same |
 * | ReadMarkers       | SqliteReadMarkers or PostgresReadMarkers, in the message store's database | PostgresReadMarkers |
 * | MessageEdits      | SqliteMessageEdits or PostgresMessageEdits, on the message store | PostgresMessageEdits |
 * | RetentionStore, UserMessageStore | on the message store's connection (SQLite / PostgreSQL twin) | PostgreSQL |
 * | Broker            | MemoryBroker             | RedisBroker (ShardedRedisBroker on a Redis Cluster) |
 * | ConnectionQuota   | MemoryConnectionQuota    | RedisConnectionQuota    |
 * | PresenceStore     | MemoryPresenceStore      | RedisPresenceStore      |
 * | ChannelHistory    | MemoryChannelHistory     | RedisChannelHistory     |
 * | ChannelSubscribers | MemoryChannelSubscribers | RedisChannelSubscribers |
 * | NodeDirectory     | MemoryNodeDirectory      | RedisNodeDirectory      |
 * | ModerationStore   | SQLite, or PostgreSQL with DATABASE_URL (the message store's database) | PostgreSQL |
 * | SlowModeGate      | MemorySlowModeGate       | RedisSlowModeGate       |
 * | StreamSessionDirectory | MemoryStreamSessionDirectory | RedisStreamSessionDirectory |
 *
 * Every provider is a factory of the injected configuration, so the choice is made when the app starts, also when
 * the configuration itself comes from an async factory (HubbubModule.forRootAsync). Everything above depends on
 * the abstract classes only. The Redis clients are `null` on a single instance. On a Redis Cluster the same twins
 * run with the cluster's key layout (REDIS_KEYS: one hash tag per family, channel history per partition).
 */
export const backendProviders: Provider[] = [
  {
    provide: MessageStore,
    inject: [HUBBUB_CONFIG, Tracing],
    useFactory: async (config: HubbubConfig, tracing: Tracing) => {
      const outbox = config.webhookUrl !== undefined;
      const store = config.databaseUrl
        ? new PostgresMessageStore({ url: config.databaseUrl, outbox })
        : new SqliteMessageStore({ path: config.sqlitePath, outbox });
      try {
        await store.init();
      } catch (err) {
        throw storeUnreachable(config, err);
      }
      return tracedMessageStore(store, tracing);
    },
  },
  // Both SQL stores implement the outbox, so `message.created` commits with its message.
  { provide: WebhookOutbox, useExisting: MessageStore },
  // These live in the message store's database, on its connection (SQLite) or pool (PostgreSQL).
  onMessageStore(
    ReadMarkers,
    (s) => new SqliteReadMarkers(s),
    (s) => new PostgresReadMarkers(s),
  ),
  onMessageStore(
    MessageEdits,
    (s) => new SqliteMessageEdits(s),
    (s) => new PostgresMessageEdits(s),
  ),
  onMessageStore(
    RetentionStore,
    (s) => new SqliteRetentionStore(s),
    (s) => new PostgresRetentionStore(s),
  ),
  onMessageStore(
    UserMessageStore,
    (s) => new SqliteUserMessageStore(s),
    (s) => new PostgresUserMessageStore(s),
  ),
  {
    provide: REDIS,
    inject: [HUBBUB_CONFIG],
    useFactory: (config: HubbubConfig) => redisClient(config, 'commands'),
  },
  {
    provide: REDIS_SUBSCRIBER,
    inject: [HUBBUB_CONFIG],
    useFactory: (config: HubbubConfig) => redisClient(config, 'subscriber'),
  },
  {
    provide: REDIS_KEYS,
    inject: [HUBBUB_CONFIG],
    useFactory: (config: HubbubConfig): RedisKeyspace =>
      partitionsOf(config) ? clusterKeyspace() : RedisKeys,
  },
  {
    provide: Broker,
    inject: [HUBBUB_CONFIG, REDIS, REDIS_SUBSCRIBER, Tracing],
    useFactory: (
      config: HubbubConfig,
      redis: Redis | null,
      sub: Redis | null,
      tracing: Tracing,
    ) => {
      const partitions = partitionsOf(config);
      const probeMs = config.heartbeatIntervalMs;
      return tracedBroker(
        redis && sub
          ? partitions
            ? new ShardedRedisBroker(redis, sub, config.nodeId, partitions, probeMs)
            : new RedisBroker(redis, sub, config.nodeId, probeMs)
          : new MemoryBroker(),
        tracing,
      );
    },
  },
  {
    provide: ConnectionQuota,
    inject: [HUBBUB_CONFIG, REDIS, REDIS_KEYS],
    useFactory: (config: HubbubConfig, redis: Redis | null, keys: RedisKeyspace) =>
      redis ? new RedisConnectionQuota(redis, config.nodeId, keys) : new MemoryConnectionQuota(),
  },
  {
    provide: PresenceStore,
    inject: [REDIS, REDIS_KEYS],
    useFactory: (redis: Redis | null, keys: RedisKeyspace) =>
      redis
        ? new RedisPresenceStore(redis, { prefix: keys.presencePrefix })
        : new MemoryPresenceStore(),
  },
  {
    provide: ChannelHistory,
    inject: [HUBBUB_CONFIG, REDIS],
    useFactory: (config: HubbubConfig, redis: Redis | null) => {
      const options = {
        size: config.channelHistorySize,
        ttlMs: Math.max(1, config.channelHistoryTtlMs),
        maxBytes: config.channelHistoryMaxBytes,
      };
      if (!redis)
        return new MemoryChannelHistory({ ...options, pruneIntervalMs: HISTORY_PRUNE_MS });
      const partitions = partitionsOf(config);
      if (!partitions)
        return new RedisChannelHistory(redis, { prefix: RedisKeys.historyPrefix, ...options });
      // A Redis Cluster: each partition holds its channels' streams with its own meta and budget (one slot), so
      // CHANNEL_HISTORY_MAX_BYTES is shared out: the budget divided by the partitions each.
      return new RedisChannelHistory(redis, {
        ...options,
        prefix: RedisKeys.historyPrefix,
        prefixOf: (channel) => PartitionKeys.history(partitions.hashTag(partitions.of(channel))),
        maxBytes: Math.floor(options.maxBytes / partitions.count),
        replicaAck: {
          timeoutMs: REPLICA_ACK_MS,
          waitFor: (key) => waitForReplica(redis, key, REPLICA_ACK_MS),
        },
      });
    },
  },
  {
    provide: ChannelSubscribers,
    inject: [HUBBUB_CONFIG, REDIS, REDIS_KEYS],
    useFactory: (config: HubbubConfig, redis: Redis | null, keys: RedisKeyspace) =>
      redis
        ? new RedisChannelSubscribers(redis, config.nodeId, keys.nodes, keys.channelSubscribers)
        : new MemoryChannelSubscribers(),
  },
  {
    provide: NodeDirectory,
    inject: [HUBBUB_CONFIG, REDIS, LocalNode, ActivitySampler, REDIS_KEYS],
    useFactory: (
      config: HubbubConfig,
      redis: Redis | null,
      local: LocalNode,
      sampler: ActivitySampler,
      keys: RedisKeyspace,
    ) =>
      redis
        ? new RedisNodeDirectory(config, redis, local, sampler, keys)
        : new MemoryNodeDirectory(local, sampler),
  },
  {
    // Opened after the message store, whose migrations create its tables; closed by StoreLifecycle.
    provide: ModerationStore,
    inject: [HUBBUB_CONFIG, MessageStore],
    useFactory: async (config: HubbubConfig) => {
      const store = config.databaseUrl
        ? new PostgresModerationStore({ url: config.databaseUrl })
        : new SqliteModerationStore(config.sqlitePath);
      try {
        await store.init();
      } catch (err) {
        throw storeUnreachable(config, err);
      }
      return store;
    },
  },
  {
    provide: SlowModeGate,
    inject: [REDIS],
    useFactory: (redis: Redis | null) =>
      redis ? new RedisSlowModeGate(redis) : new MemorySlowModeGate(),
  },
  {
    provide: StreamSessionDirectory,
    inject: [HUBBUB_CONFIG, REDIS],
    useFactory: (config: HubbubConfig, redis: Redis | null) =>
      redis
        ? new RedisStreamSessionDirectory(redis, config.nodeId)
        : new MemoryStreamSessionDirectory(),
  },
  StoreLifecycle,
  RedisLifecycle,
];

/** The fan-out partitions on a Redis Cluster (REDIS_CLUSTER_NODES), computed once per configuration; else none. */
const partitionCache = new WeakMap<HubbubConfig, RedisPartitions>();
function partitionsOf(config: HubbubConfig): RedisPartitions | undefined {
  if (!config.redis || !('cluster' in config.redis)) return undefined;
  let partitions = partitionCache.get(config);
  if (!partitions)
    partitionCache.set(config, (partitions = new RedisPartitions(config.redis.partitions)));
  return partitions;
}

/** A concept whose twins live on the message store's own database: the SQLite or the PostgreSQL one, as the store is. */
function onMessageStore<T>(
  provide: abstract new (...args: never[]) => T,
  sqlite: (store: SqliteMessageStore) => T,
  postgres: (store: PostgresMessageStore) => T,
): Provider {
  return {
    provide,
    inject: [MessageStore],
    useFactory: (store: MessageStore) =>
      store instanceof SqliteMessageStore ? sqlite(store) : postgres(store as PostgresMessageStore),
  };
}

/** A connected (or reconnecting) Redis client in cluster mode, else null. */
async function redisClient(config: HubbubConfig, name: string): Promise<Redis | null> {
  if (!config.redis) return null;
  const redis = createRedis(config.redis, name);
  await connectRedis(redis);
  return redis;
}
