/**
 * Every Redis key and pub/sub channel name Hubbub uses, in one place. All start with `hubbub:` so that one
 * Redis can be shared with other applications (and `SCAN MATCH hubbub:*` finds everything of ours).
 *
 * | key                                | type    | written by            | holds                                    |
 * | ---------------------------------- | ------- | --------------------- | ---------------------------------------- |
 * | `hubbub:all`                       | channel | RedisBroker           | `all` pushes and cluster commands        |
 * | `hubbub:inbox:<node>`              | channel | RedisBroker           | pushes routed to one instance            |
 * | `hubbub:probe:<node>`              | channel | PubSubProbe           | an instance's probes of its subscriber   |
 * | `hubbub:route:<topic>`             | set     | RedisBroker           | instances with local interest in a topic |
 * | `hubbub:node-topics:<node>`        | set     | RedisBroker           | topics one instance routed (for reaping) |
 * | `hubbub:conns:user:<userId>`       | hash    | RedisConnectionQuota  | node → connections of the user           |
 * | `hubbub:conns:total`               | hash    | RedisConnectionQuota  | node → connections                       |
 * | `hubbub:conns:node-users:<node>`   | set     | RedisConnectionQuota  | users with connections on the node       |
 * | `hubbub:nodes`                     | set     | NodeLiveness          | instances ever seen alive                |
 * | `hubbub:node:<node>`               | string  | NodeLiveness          | liveness, TTL one heartbeat              |
 * | `hubbub:reap:<node>`               | string  | NodeLiveness          | lock while a dead node is reaped         |
 * | `hubbub:reaped:<node>`             | string  | NodeLiveness          | the node was reaped (read when it wakes) |
 * | `hubbub:chansubs:<node>`           | hash    | RedisChannelSubscribers | channel → subscribers on the node      |
 * | `hubbub:node-info:<node>`          | string  | RedisNodeDirectory    | the dashboard's record of an instance    |
 * | `hubbub:node-activity:<node>`      | string  | RedisNodeDirectory    | its 15-minute activity series            |
 * | `hubbub:stream-sessions:<node>`    | hash    | RedisStreamSessionDirectory | open stream sessions → their users |
 * | `hubbub:presence:…`                | various | RedisPresenceStore    | members and connections (see the store)  |
 * | `hubbub:history:…`                 | various | RedisChannelHistory   | channel streams (see the history)        |
 * | `hubbub:history:stream:<channel>`  | hash    | RedisChannelHistory   | offset and epoch, from the first publish |
 * | `hubbub:history:pubs:<channel>`    | list    | RedisChannelHistory   | the channel's recovery window            |
 * | `hubbub:history:meta`              | hash    | RedisChannelHistory   | generation, byte count, offset floors    |
 * | `hubbub:history:budget`            | zset    | RedisChannelHistory   | every retained publication, oldest first |
 * | `hubbub:slow:<room>|<userId>`      | string  | RedisSlowModeGate     | a slow-mode slot, TTL the room interval  |
 *
 * On a Redis Cluster (REDIS_CLUSTER_NODES) the same keys carry hash tags ({@link clusterKeyspace}), so that every
 * script and pipeline stays inside one slot:
 *
 * | family                                   | tag            | keys                                          |
 * | ---------------------------------------- | -------------- | --------------------------------------------- |
 * | fan-out (sharded channels, routes)       | `{<part>}`     | `hubbub:{<part>}:inbox:<node>`, `…:all`, `…:route:<topic>`, `…:node-topics:<node>` |
 * | channel history                          | `{<part>}`     | `hubbub:{<part>}:history:…` (meta and budget per partition) |
 * | connection quotas                        | `{conns}`      | `hubbub:{conns}:user:<id>`, `…:total`, `…:node-users:<node>` |
 * | liveness, node directory, channel counts | `{nodes}`      | `hubbub:{nodes}:all`, `…:node:<node>`, `…:reap:<node>`, … |
 * | presence                                 | `{presence}`   | `hubbub:{presence}:…`                          |
 *
 * `<part>` is a partition's tag (cluster/redis-partitions.ts): a topic's or channel's keys and sharded channel share
 * its partition's slot, and the partitions spread over the masters. Presence, quotas and liveness each keep one slot:
 * their scripts are atomic across rooms (a disconnect leaves every room of a connection in one script), which one
 * slot per family keeps exact.
 */
export const REDIS_PREFIX = 'hubbub:';

export const RedisKeys = {
  allChannel: `${REDIS_PREFIX}all`,
  inboxPrefix: `${REDIS_PREFIX}inbox:`,
  inbox: (node: string): string => `${REDIS_PREFIX}inbox:${node}`,
  probe: (node: string): string => `${REDIS_PREFIX}probe:${node}`,
  route: (topic: string): string => `${REDIS_PREFIX}route:${topic}`,
  nodeTopics: (node: string): string => `${REDIS_PREFIX}node-topics:${node}`,

  userConns: (userId: string): string => `${REDIS_PREFIX}conns:user:${userId}`,
  totalConns: `${REDIS_PREFIX}conns:total`,
  nodeUsers: (node: string): string => `${REDIS_PREFIX}conns:node-users:${node}`,

  nodes: `${REDIS_PREFIX}nodes`,
  nodeAlive: (node: string): string => `${REDIS_PREFIX}node:${node}`,
  reapLock: (node: string): string => `${REDIS_PREFIX}reap:${node}`,
  reaped: (node: string): string => `${REDIS_PREFIX}reaped:${node}`,
  channelSubscribers: (node: string): string => `${REDIS_PREFIX}chansubs:${node}`,
  nodeInfo: (node: string): string => `${REDIS_PREFIX}node-info:${node}`,
  nodeActivity: (node: string): string => `${REDIS_PREFIX}node-activity:${node}`,
  slowMode: (room: string, userId: string): string => `${REDIS_PREFIX}slow:${room}|${userId}`,
  streamSessions: (node: string): string => `${REDIS_PREFIX}stream-sessions:${node}`,

  /** Key prefixes of the stores that lay out their own keys below them. */
  presencePrefix: `${REDIS_PREFIX}presence:`,
  historyPrefix: `${REDIS_PREFIX}history:`,
} as const;

/** The key layout the Redis twins use: {@link RedisKeys} on one Redis, {@link clusterKeyspace} on a cluster. */
export interface RedisKeyspace {
  readonly userConns: (userId: string) => string;
  readonly totalConns: string;
  readonly nodeUsers: (node: string) => string;
  readonly nodes: string;
  readonly nodeAlive: (node: string) => string;
  readonly reapLock: (node: string) => string;
  readonly reaped: (node: string) => string;
  readonly channelSubscribers: (node: string) => string;
  readonly nodeInfo: (node: string) => string;
  readonly nodeActivity: (node: string) => string;
  readonly presencePrefix: string;
  readonly historyPrefix: string;
}

/** A Redis Cluster's layout: one hash tag per family (see the table above). */
export function clusterKeyspace(): RedisKeyspace {
  const conns = `${REDIS_PREFIX}{conns}:`;
  const nodes = `${REDIS_PREFIX}{nodes}:`;
  return {
    userConns: (userId) => `${conns}user:${userId}`,
    totalConns: `${conns}total`,
    nodeUsers: (node) => `${conns}node-users:${node}`,
    nodes: `${nodes}all`,
    nodeAlive: (node) => `${nodes}node:${node}`,
    reapLock: (node) => `${nodes}reap:${node}`,
    reaped: (node) => `${nodes}reaped:${node}`,
    channelSubscribers: (node) => `${nodes}chansubs:${node}`,
    nodeInfo: (node) => `${nodes}node-info:${node}`,
    nodeActivity: (node) => `${nodes}node-activity:${node}`,
    presencePrefix: `${REDIS_PREFIX}{presence}:`,
    historyPrefix: `${REDIS_PREFIX}history:`,
  };
}

/** Keys and sharded channels of one fan-out partition (`tag` with its braces), on a Redis Cluster. */
export const PartitionKeys = {
  inbox: (tag: string, node: string): string => `${REDIS_PREFIX}${tag}:inbox:${node}`,
  all: (tag: string): string => `${REDIS_PREFIX}${tag}:all`,
  route: (tag: string, topic: string): string => `${REDIS_PREFIX}${tag}:route:${topic}`,
  nodeTopics: (tag: string, node: string): string => `${REDIS_PREFIX}${tag}:node-topics:${node}`,
  /** Channel history's prefix in the partition: meta and budget are per partition. */
  history: (tag: string): string => `${REDIS_PREFIX}${tag}:history:`,
} as const;

/** The keys RedisChannelHistory lays out below its prefix (`historyPrefix` in the server). */
export const HISTORY_KEYS = {
  /** + channel: hash of `offset` and `epoch`. */
  stream: 'stream:',
  /** + channel: list of retained publications. */
  list: 'pubs:',
  /** hash: `gen`, `bytes`, `f<slot>` offset floors. */
  meta: 'meta',
  /** zset: one member per retained publication, scored by its ts. */
  budget: 'budget',
} as const;
