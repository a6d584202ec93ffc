import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
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

export { ConfigError, loadTls, WEBHOOK_SECRET_MIN_BYTES };
import { tracingConfig, type TracingConfig } from './tracing-config';

/**
 * The environment as the process receives it. Every key of the contract is validated here, once, at boot;
 * the rest of the code only sees the typed {@link HubbubConfig} built from it.
 */
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\s*\d*\.?\d+\s*$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const blankToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const OTLP_URL = { protocols: ['http', 'https'], require_tld: false, require_protocol: true };
const HTTP_URL = OTLP_URL;
const HTTP_URL_MESSAGE = { message: '$property must be an http:// or https:// URL' };
/** `host:port[,host:port…]`; an IPv6 host in brackets. */
const SENTINEL_LIST =
  /^\s*(\[[0-9A-Fa-f:.]+\]|[^\s,:[\]]+):\d{1,5}\s*(,\s*(\[[0-9A-Fa-f:.]+\]|[^\s,:[\]]+):\d{1,5}\s*)*$/;

export class EnvironmentVariables {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  /** Default: 127.0.0.1 in development (nothing reachable from the network by accident), else 0.0.0.0. */
  @Transform(blankToUndefined) @IsOptional() @IsString() HOST?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() TLS_CERT_FILE?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() TLS_KEY_FILE?: string;
  @IsIn(['development', 'production', 'test']) NODE_ENV = 'development';
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_SECRET?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_PUBLIC_KEY?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_ISSUER?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_AUDIENCE?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() ALLOWED_ORIGINS?: string;
  @IsString() @MinLength(1) SQLITE_PATH = './data/hubbub.db';
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl(
    { protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true },
    { message: '$property must be a postgres:// or postgresql:// URL' },
  )
  DATABASE_URL?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl(
    { protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true },
    { message: '$property must be a redis:// or rediss:// URL' },
  )
  REDIS_URL?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(SENTINEL_LIST, { message: 'REDIS_SENTINELS must be a comma list of host:port' })
  REDIS_SENTINELS?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() @MinLength(1) REDIS_SENTINEL_NAME?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() @MinLength(1) API_KEY?: string;
  @Transform(toInt) @IsInt() @Min(100) HEARTBEAT_INTERVAL_MS = 25000;
  @Transform(toInt) @IsInt() @Min(64) MAX_PAYLOAD_BYTES = 65536;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_PER_SEC = 20;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_BURST = 40;
  @Transform(toInt) @IsInt() @Min(1) MAX_SUBSCRIPTIONS = 100;
  @Transform(toInt) @IsInt() @Min(1) MAX_CONNECTIONS_PER_USER = 50;
  @Transform(toInt) @IsInt() @Min(1024) MAX_BUFFERED_BYTES = 4194304;
  @Transform(toInt) @IsInt() @Min(0) CHANNEL_HISTORY_SIZE = 100;
  @Transform(toInt) @IsInt() @Min(0) CHANNEL_HISTORY_TTL_MS = 300000;
  @Transform(toInt) @IsInt() @Min(0) CHANNEL_HISTORY_MAX_BYTES = 67108864;
  @Transform(toInt) @IsInt() @Min(1024) HISTORY_REPLY_MAX_BYTES = 262144;
  @Transform(toNumber) @IsNumber() @Min(0.01) @Max(1) OVERLOAD_HEAP_RATIO = 0.85;
  @Transform(toInt) @IsInt() @Min(0) SHUTDOWN_TIMEOUT_MS = 10000;
  @Transform(blankToUndefined) @IsOptional() @IsString() @MinLength(1) NODE_ID?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl(HTTP_URL, HTTP_URL_MESSAGE)
  WEBHOOK_URL?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() WEBHOOK_SECRET?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl(HTTP_URL, HTTP_URL_MESSAGE)
  ACCESS_PROXY_URL?: string;
  @Transform(toInt) @IsInt() @Min(1) ACCESS_PROXY_TIMEOUT_MS = 2000;
  @Transform(toInt) @IsInt() @Min(1) ACCESS_PROXY_MAX_PENDING = 256;
  @Transform(toInt) @IsInt() @Min(1) WEBHOOK_CONCURRENCY = 8;
  @Transform(toInt) @IsInt() @Min(1) WEBHOOK_OUTBOX_MAX_EVENTS = 10000;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
  @Transform(blankToUndefined) @Transform(toBool) @IsOptional() @IsBoolean() DEV_TOKENS?: boolean;
  // OpenTelemetry traces: the standard OTEL_* variables (see src/config/tracing-config.ts).
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl(OTLP_URL, HTTP_URL_MESSAGE)
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl(OTLP_URL, HTTP_URL_MESSAGE)
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, {
    message: '$property must be a comma list of key=value pairs',
  })
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(['http/json'])
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() OTEL_SERVICE_NAME?: string;
  @Transform(blankToUndefined)
  @Transform(toBool)
  @IsOptional()
  @IsBoolean()
  OTEL_SDK_DISABLED?: boolean;
  @Transform(blankToUndefined) @IsOptional() @IsString() @MinLength(1) METRICS_TOKEN?: string;
  @Transform(toInt) @IsInt() @Min(1) HANDSHAKE_TIMEOUT_MS = 10000;
  @Transform(toInt) @IsInt() @Min(1) MAX_PENDING_CONNECTIONS = 10000;
  @Transform(blankToUndefined) @IsOptional() @IsString() TRUSTED_PROXIES?: string;
}

/** Where cluster mode finds Redis: one URL, or the current master of a Sentinel-monitored group. */
export type RedisTarget =
  { url: string } | { sentinels: { host: string; port: number }[]; name: string };

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
}

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
    const key = vars.REDIS_URL ? 'REDIS_URL' : 'REDIS_SENTINELS';
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
  };
}

/** `localhost`, 127.0.0.0/8 or ::1 (also IPv4-mapped): reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
