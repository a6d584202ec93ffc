import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigError } from './config-error';
import {
  assertProductionKeys,
  assertUsablePublicKey,
  assertWebhookSecret,
  loadTls,
  redisTarget,
  trustedProxies,
  WEBHOOK_SECRET_MIN_BYTES,
} from './config-checks';

import { EnvironmentVariables } from './environment-variables';

export { ConfigError, EnvironmentVariables, loadTls, WEBHOOK_SECRET_MIN_BYTES };
import { tracingConfig, type TracingConfig } from './tracing-config';

/** Where cluster mode finds Redis: one URL, or the current master of a Sentinel-monitored group. */
export type RedisTarget =
  | { url: string }
  | { sentinels: { host: string; port: number }[]; name: string }
  | {
      /** REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster. */
      cluster: { host: string; port: number }[];
      /** REDIS_PUBSUB_PARTITIONS. */
      partitions: number;
      /** How often the client reloads the slot map without being told (a quarter heartbeat, 250 ms..5 s). */
      slotsRefreshMs: number;
    };

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** TLS_CERT_FILE / TLS_KEY_FILE, as read and checked at start (the paths too: SIGHUP reads them again). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** The validated, typed configuration every service receives through DI. */
export interface HubbubConfig {
  port: number;
  host: string;
  /** PEM certificate chain and private key (TLS_CERT_FILE / TLS_KEY_FILE): the port serves HTTPS and WSS. */
  tls?: TlsFiles;
  env: 'development' | 'production' | 'test';
  jwt: {
    /** HS256 secret (bytes); absent when a public key is configured. */
    secret?: Uint8Array;
    /** PEM of the RS256/ES256 public key. */
    publicKey?: string;
    issuer?: string;
    audience?: string;
    /** True when the secret was generated at start (development only). */
    ephemeral: boolean;
    /** JWT_SECRET was set too, but JWT_PUBLIC_KEY decides how tokens are verified. */
    secretIgnored: boolean;
  };
  allowedOrigins?: ReadonlySet<string>;
  sqlitePath: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Set in cluster mode (REDIS_URL, or REDIS_SENTINELS with REDIS_SENTINEL_NAME). */
  redis?: RedisTarget;
  apiKey?: string;
  heartbeatIntervalMs: number;
  maxPayloadBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  maxSubscriptions: number;
  maxConnectionsPerUser: number;
  maxBufferedBytes: number;
  channelHistorySize: number;
  channelHistoryTtlMs: number;
  /** Bytes of publications all recovery windows hold together; past it the oldest go first. */
  channelHistoryMaxBytes: number;
  /** A reply carrying messages stays under this many bytes (fewer messages, `more: true`). */
  historyReplyMaxBytes: number;
  /** Share of V8's heap_size_limit in use above which the instance refuses new work (`overloaded`). */
  overloadHeapRatio: number;
  shutdownTimeoutMs: number;
  nodeId: string;
  webhookUrl?: string;
  /** `whsec_` + base64 of at least 24 bytes (Standard Webhooks). */
  webhookSecret?: string;
  /** Asked about joins, subscribes and publishes the claims do not grant (unset: refused). */
  accessProxyUrl?: string;
  accessProxyTimeoutMs: number;
  /** Access-proxy checks in flight on this instance (and 4 per connection); past it: `overloaded`. */
  accessProxyMaxPending: number;
  /** Webhook requests in flight on this instance. */
  webhookConcurrency: number;
  /** Past this many events in the outbox, lifecycle events are shed (never `message.created`). */
  webhookOutboxMaxEvents: number;
  logLevel: string;
  devTokens: boolean;
  /** OpenTelemetry traces; absent when off (no OTLP endpoint). */
  tracing?: TracingConfig;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** A connection that has not completed its HTTP (upgrade) request within this time is closed. */
  handshakeTimeoutMs: number;
  /** Connections of all addresses that have not completed a request; past it the oldest are cut. */
  maxPendingConnections: number;
  /** TRUSTED_PROXIES: peers whose `X-Forwarded-For` names the client's address (see common/client-address.ts). */
  trustedProxies?: string[];
  /** Messages older than this many days (by `ts`) are deleted for good; absent: kept forever (a room may override). */
  retentionDays?: number;
  /** How often the retention sweep runs. */
  retentionSweepMs: number;
  /** TRANSPORTS: the client transports served (`/ws`, `GET /sse`, `POST /stream`). */
  transports: ReadonlySet<Transport>;
}

/** The client transports (contract section 10). */
export type Transport = 'websocket' | 'sse' | 'stream';

export const HUBBUB_CONFIG = Symbol('HUBBUB_CONFIG');

const TYPE_CONSTRAINTS = ['isInt', 'isNumber', 'isBoolean', 'isUrl', 'isIn', 'isString'];
export const KNOWN_KEYS = Object.keys(new EnvironmentVariables());

/**
 * Builds the typed configuration from an environment, or throws a {@link ConfigError} naming the first bad key.
 * Pure: it reads only the object it is given, so tests can boot many differently configured servers in one process.
 */
export function loadConfig(env: Record<string, string | undefined>): HubbubConfig {
  const raw: Record<string, string> = {};
  for (const key of [...KNOWN_KEYS, 'DEV_TOKENS', 'JWT_SECRET', 'JWT_PUBLIC_KEY']) {
    const value = env[key];
    if (value !== undefined) raw[key] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const first = errors[0];
    // A type error ("must be an integer") says more than the range checks that also fail on it.
    const constraints = first.constraints ?? {};
    const key = TYPE_CONSTRAINTS.find((k) => k in constraints) ?? Object.keys(constraints)[0];
    const reason = (key && constraints[key]) ?? 'is invalid';
    throw new ConfigError(
      `Invalid configuration: ${first.property} ${reason.replace(/^\S+\s/, '')}`,
    );
  }
  const production = vars.NODE_ENV === 'production';
  // Development and test bind the loopback interface unless HOST says otherwise; production every interface.
  const host = vars.HOST ?? (production ? '0.0.0.0' : '127.0.0.1');
  // On by default only where nothing but this machine can reach it: development on a loopback HOST.
  const devTokens = vars.DEV_TOKENS ?? (vars.NODE_ENV === 'development' && isLoopback(host));

  const publicKeyPem = vars.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n');
  if (publicKeyPem !== undefined) assertUsablePublicKey(publicKeyPem);
  if (production) {
    if (!vars.JWT_PUBLIC_KEY && !vars.JWT_SECRET) {
      throw new ConfigError(
        'Invalid configuration: JWT_SECRET is required when NODE_ENV=production',
      );
    }
    if (!vars.JWT_PUBLIC_KEY && vars.JWT_SECRET && Buffer.byteLength(vars.JWT_SECRET) < 32) {
      throw new ConfigError(
        'Invalid configuration: JWT_SECRET must be at least 32 bytes when NODE_ENV=production',
      );
    }
    if (
      !vars.ALLOWED_ORIGINS ||
      !vars.ALLOWED_ORIGINS.split(',').some((o) => o.trim().length > 0)
    ) {
      throw new ConfigError(
        'Invalid configuration: ALLOWED_ORIGINS is required when NODE_ENV=production',
      );
    }
    if (devTokens) {
      throw new ConfigError(
        'Invalid configuration: DEV_TOKENS must not be enabled when NODE_ENV=production',
      );
    }
    assertProductionKeys(vars);
  }
  const redis = redisTarget(vars);
  if (redis && !vars.DATABASE_URL) {
    const key = vars.REDIS_URL
      ? 'REDIS_URL'
      : vars.REDIS_CLUSTER_NODES
        ? 'REDIS_CLUSTER_NODES'
        : 'REDIS_SENTINELS';
    throw new ConfigError(
      `Invalid configuration: ${key} (cluster mode) requires DATABASE_URL: instances must share one PostgreSQL message store`,
    );
  }
  if (vars.WEBHOOK_URL && !vars.WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid configuration: WEBHOOK_SECRET is required when WEBHOOK_URL is set',
    );
  }
  if (vars.WEBHOOK_SECRET !== undefined) assertWebhookSecret(vars.WEBHOOK_SECRET);
  const tls = loadTls(vars.TLS_CERT_FILE, vars.TLS_KEY_FILE);

  const ephemeral = !vars.JWT_SECRET && !vars.JWT_PUBLIC_KEY;
  const secret = vars.JWT_PUBLIC_KEY
    ? undefined
    : vars.JWT_SECRET
      ? new TextEncoder().encode(vars.JWT_SECRET)
      : new Uint8Array(randomBytes(32));
  const origins = vars.ALLOWED_ORIGINS?.split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);

  return {
    port: vars.PORT,
    host,
    tls,
    env: vars.NODE_ENV as HubbubConfig['env'],
    jwt: {
      secret,
      publicKey: publicKeyPem,
      secretIgnored: publicKeyPem !== undefined && vars.JWT_SECRET !== undefined,
      issuer: vars.JWT_ISSUER,
      audience: vars.JWT_AUDIENCE,
      ephemeral,
    },
    allowedOrigins: origins && origins.length > 0 ? new Set(origins) : undefined,
    sqlitePath: vars.SQLITE_PATH,
    databaseUrl: vars.DATABASE_URL,
    redisUrl: vars.REDIS_URL,
    redis,
    apiKey: vars.API_KEY,
    heartbeatIntervalMs: vars.HEARTBEAT_INTERVAL_MS,
    maxPayloadBytes: vars.MAX_PAYLOAD_BYTES,
    rateLimitPerSec: vars.RATE_LIMIT_PER_SEC,
    rateLimitBurst: vars.RATE_LIMIT_BURST,
    maxSubscriptions: vars.MAX_SUBSCRIPTIONS,
    maxConnectionsPerUser: vars.MAX_CONNECTIONS_PER_USER,
    maxBufferedBytes: vars.MAX_BUFFERED_BYTES,
    channelHistorySize: vars.CHANNEL_HISTORY_SIZE,
    channelHistoryTtlMs: vars.CHANNEL_HISTORY_TTL_MS,
    channelHistoryMaxBytes: vars.CHANNEL_HISTORY_MAX_BYTES,
    historyReplyMaxBytes: vars.HISTORY_REPLY_MAX_BYTES,
    overloadHeapRatio: vars.OVERLOAD_HEAP_RATIO,
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    nodeId: vars.NODE_ID ?? `${hostname()}-${process.pid}`,
    webhookUrl: vars.WEBHOOK_URL,
    webhookSecret: vars.WEBHOOK_SECRET,
    accessProxyUrl: vars.ACCESS_PROXY_URL,
    accessProxyTimeoutMs: vars.ACCESS_PROXY_TIMEOUT_MS,
    accessProxyMaxPending: vars.ACCESS_PROXY_MAX_PENDING,
    webhookConcurrency: vars.WEBHOOK_CONCURRENCY,
    webhookOutboxMaxEvents: vars.WEBHOOK_OUTBOX_MAX_EVENTS,
    logLevel: vars.LOG_LEVEL,
    devTokens,
    tracing: tracingConfig(vars),
    metricsToken: vars.METRICS_TOKEN,
    handshakeTimeoutMs: vars.HANDSHAKE_TIMEOUT_MS,
    maxPendingConnections: vars.MAX_PENDING_CONNECTIONS,
    trustedProxies: trustedProxies(vars.TRUSTED_PROXIES),
    retentionDays: vars.RETENTION_DAYS,
    retentionSweepMs: vars.RETENTION_SWEEP_MS,
    transports: new Set(vars.TRANSPORTS.split(',').map((t) => t.trim() as Transport)),
  };
}

/** `localhost`, 127.0.0.0/8 or ::1 (also IPv4-mapped): reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
