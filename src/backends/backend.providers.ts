import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker } from '../broker/broker';
import { MemoryBroker } from '../broker/memory-broker';
import { RedisBroker } from '../broker/redis-broker';
import { ChannelHistory, MemoryChannelHistory } from '../channels/history/channel-history';
import { RedisChannelHistory } from '../channels/history/redis-channel-history';
import { NodeLiveness } from '../lifecycle/node-liveness.service';
import { RedisKeys } from '../cluster/redis-keys';
import { connectRedis, createRedis, REDIS } from '../cluster/redis.provider';
import type { HubbubConfig } from '../config/config';
import { MemoryPresenceStore, PresenceStore } from '../presence/store/presence-store';
import { RedisPresenceStore } from '../presence/store/redis-presence-store';
import { ConnectionQuota } from '../quota/connection-quota';
import { MemoryConnectionQuota } from '../quota/memory-connection-quota';
import { RedisConnectionQuota } from '../quota/redis-connection-quota';
import { MessageStore } from '../store/message-store';
import { PostgresMessageStore } from '../store/postgres-message-store';
import { SqliteMessageStore } from '../store/sqlite-message-store';
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

/** Closes the Redis clients last, after every service that uses them has stopped. */
@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly sub: Redis,
  ) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.sub.disconnect();
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
 *
 * Everything above it depends on the abstract classes only.
 */
export function backendProviders(config: HubbubConfig): Provider[] {
  return [...storeProviders(config), ...stateProviders(config), StoreLifecycle];
}

function storeProviders(config: HubbubConfig): Provider[] {
  const outbox = config.webhookUrl !== undefined;
  return [
    {
      provide: MessageStore,
      useFactory: async () => {
        const store = config.databaseUrl
          ? new PostgresMessageStore({ url: config.databaseUrl, outbox })
          : new SqliteMessageStore({ path: config.sqlitePath, outbox });
        await store.init();
        return store;
      },
    },
    // Both SQL stores implement the outbox, so `message.created` commits with its message.
    { provide: WebhookOutbox, useExisting: MessageStore },
  ];
}

/** Fan-out, presence, channel history and connection counts: in memory, or shared through Redis. */
function stateProviders(config: HubbubConfig): Provider[] {
  const historyOptions = {
    size: config.channelHistorySize,
    ttlMs: Math.max(1, config.channelHistoryTtlMs),
  };
  if (!config.redis) {
    return [
      { provide: Broker, useFactory: () => new MemoryBroker() },
      { provide: ConnectionQuota, useClass: MemoryConnectionQuota },
      { provide: PresenceStore, useFactory: () => new MemoryPresenceStore() },
      {
        provide: ChannelHistory,
        useFactory: () =>
          new MemoryChannelHistory({ ...historyOptions, pruneIntervalMs: HISTORY_PRUNE_MS }),
      },
    ];
  }
  const target = config.redis;
  const node = config.nodeId;
  return [
    {
      provide: REDIS,
      useFactory: async () => {
        const redis = createRedis(target, 'commands');
        await connectRedis(redis);
        return redis;
      },
    },
    {
      provide: REDIS_SUBSCRIBER,
      useFactory: async () => {
        const redis = createRedis(target, 'subscriber');
        await connectRedis(redis);
        return redis;
      },
    },
    {
      provide: Broker,
      inject: [REDIS, REDIS_SUBSCRIBER],
      useFactory: (redis: Redis, sub: Redis) => new RedisBroker(redis, sub, node),
    },
    {
      provide: RedisConnectionQuota,
      inject: [REDIS],
      useFactory: (redis: Redis) => new RedisConnectionQuota(redis, node),
    },
    { provide: ConnectionQuota, useExisting: RedisConnectionQuota },
    {
      provide: PresenceStore,
      inject: [REDIS],
      useFactory: (redis: Redis) =>
        new RedisPresenceStore(redis, { prefix: RedisKeys.presencePrefix }),
    },
    {
      provide: ChannelHistory,
      inject: [REDIS],
      useFactory: (redis: Redis) =>
        new RedisChannelHistory(redis, { prefix: RedisKeys.historyPrefix, ...historyOptions }),
    },
    NodeLiveness,
    RedisLifecycle,
  ];
}
