import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker } from '../broker/broker';
import { MemoryBroker } from '../broker/memory-broker';
import { RedisBroker } from '../broker/redis-broker';
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
import { RedisKeys } from '../cluster/redis-keys';
import { connectRedis, createRedis, REDIS } from '../cluster/redis.provider';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { storeUnreachable } from '../config/startup-checks';
import { MemoryPresenceStore } from '../presence/store/memory-presence-store';
import { PresenceStore } from '../presence/store/presence-store';
import { RedisPresenceStore } from '../presence/store/redis-presence-store';
import { ConnectionQuota } from '../quota/connection-quota';
import { MemoryConnectionQuota } from '../quota/memory-connection-quota';
import { RedisConnectionQuota } from '../quota/redis-connection-quota';
import { MessageStore } from '../store/message-store';
import { PostgresMessageStore } from '../store/postgres-message-store';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { tracedMessageStore } from '../store/traced-store';
import { MemoryStreamSessionDirectory } from '../stream/memory-stream-session-directory';
import { RedisStreamSessionDirectory } from '../stream/redis-stream-session-directory';
import { StreamSessionDirectory } from '../stream/stream-session-directory';
import { Tracing } from '../tracing/tracing.service';
import { WebhookOutbox } from '../store/webhook-outbox';

const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');

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
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.history.close();
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
 * | concept           | single instance          | cluster (REDIS_URL / Sentinel) |
 * | ----------------- | ------------------------ | ----------------------- |
 * | MessageStore      | SQLite, or PostgreSQL with DATABASE_URL | PostgreSQL |
 * | WebhookOutbox     | the message store itself (same transaction as `message.created`) | same |
 * | Broker            | MemoryBroker             | RedisBroker             |
 * | ConnectionQuota   | MemoryConnectionQuota    | RedisConnectionQuota    |
 * | PresenceStore     | MemoryPresenceStore      | RedisPresenceStore      |
 * | ChannelHistory    | MemoryChannelHistory     | RedisChannelHistory     |
 * | ChannelSubscribers | MemoryChannelSubscribers | RedisChannelSubscribers |
 * | NodeDirectory     | MemoryNodeDirectory      | RedisNodeDirectory      |
 * | StreamSessionDirectory | MemoryStreamSessionDirectory | RedisStreamSessionDirectory |
 *
 * Every provider is a factory of the injected configuration, so the choice is made when the app starts, also when
 * the configuration itself comes from an async factory (HubbubModule.forRootAsync). Everything above depends on
 * the abstract classes only. The Redis clients are `null` on a single instance.
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
    provide: Broker,
    inject: [HUBBUB_CONFIG, REDIS, REDIS_SUBSCRIBER, Tracing],
    useFactory: (config: HubbubConfig, redis: Redis | null, sub: Redis | null, tracing: Tracing) =>
      tracedBroker(
        redis && sub
          ? new RedisBroker(redis, sub, config.nodeId, config.heartbeatIntervalMs)
          : new MemoryBroker(),
        tracing,
      ),
  },
  {
    provide: ConnectionQuota,
    inject: [HUBBUB_CONFIG, REDIS],
    useFactory: (config: HubbubConfig, redis: Redis | null) =>
      redis ? new RedisConnectionQuota(redis, config.nodeId) : new MemoryConnectionQuota(),
  },
  {
    provide: PresenceStore,
    inject: [REDIS],
    useFactory: (redis: Redis | null) =>
      redis
        ? new RedisPresenceStore(redis, { prefix: RedisKeys.presencePrefix })
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
      return redis
        ? new RedisChannelHistory(redis, { prefix: RedisKeys.historyPrefix, ...options })
        : new MemoryChannelHistory({ ...options, pruneIntervalMs: HISTORY_PRUNE_MS });
    },
  },
  {
    provide: ChannelSubscribers,
    inject: [HUBBUB_CONFIG, REDIS],
    useFactory: (config: HubbubConfig, redis: Redis | null) =>
      redis
        ? new RedisChannelSubscribers(redis, config.nodeId, RedisKeys.nodes)
        : new MemoryChannelSubscribers(),
  },
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
        : new MemoryNodeDirectory(local, sampler),
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

/** A connected (or reconnecting) Redis client in cluster mode, else null. */
async function redisClient(config: HubbubConfig, name: string): Promise<Redis | null> {
  if (!config.redis) return null;
  const redis = createRedis(config.redis, name);
  await connectRedis(redis);
  return redis;
}
