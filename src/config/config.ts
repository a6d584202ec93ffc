import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { createPublicKey, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * The environment as the process receives it. Every key of the contract is validated here, once, at boot;
 * the rest of the code only sees the typed {@link HubbubConfig} built from it.
 */
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const blankToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

export class EnvironmentVariables {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  @IsIn(['development', 'production', 'test']) NODE_ENV = 'development';
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_SECRET?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_PUBLIC_KEY?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_ISSUER?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() JWT_AUDIENCE?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() ALLOWED_ORIGINS?: string;
  @IsString() @MinLength(1) SQLITE_PATH = './data/hubbub.db';
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL?: string;
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
  @Transform(toInt) @IsInt() @Min(0) SHUTDOWN_TIMEOUT_MS = 10000;
  @Transform(blankToUndefined) @IsOptional() @IsString() @MinLength(1) NODE_ID?: string;
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  WEBHOOK_URL?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() WEBHOOK_SECRET?: string;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
  @Transform(blankToUndefined) @Transform(toBool) @IsOptional() @IsBoolean() DEV_TOKENS?: boolean;
  @Transform(blankToUndefined) @IsOptional() @IsString() @MinLength(1) METRICS_TOKEN?: string;
  @Transform(toInt) @IsInt() @Min(1) HANDSHAKE_TIMEOUT_MS = 10000;
}

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** The validated, typed configuration every service receives through DI. */
export interface HubbubConfig {
  port: number;
  host: string;
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
  shutdownTimeoutMs: number;
  nodeId: string;
  webhookUrl?: string;
  webhookSecret?: string;
  logLevel: string;
  devTokens: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** A connection that has not completed its HTTP (upgrade) request within this time is closed. */
  handshakeTimeoutMs: number;
}

export const HUBBUB_CONFIG = Symbol('HUBBUB_CONFIG');

/** Thrown with one line that names the offending key; main.ts prints it and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const TYPE_CONSTRAINTS = ['isInt', 'isBoolean', 'isUrl', 'isIn', 'isString'];
const KNOWN_KEYS = Object.keys(new EnvironmentVariables());

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
  const devTokens = vars.DEV_TOKENS ?? !production;

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
  }
  if (vars.REDIS_URL && !vars.DATABASE_URL) {
    throw new ConfigError(
      'Invalid configuration: REDIS_URL (cluster mode) requires DATABASE_URL: instances must share one PostgreSQL message store',
    );
  }
  if (vars.WEBHOOK_URL && !vars.WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid configuration: WEBHOOK_SECRET is required when WEBHOOK_URL is set',
    );
  }

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
    host: vars.HOST,
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
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    nodeId: vars.NODE_ID ?? `${hostname()}-${process.pid}`,
    webhookUrl: vars.WEBHOOK_URL,
    webhookSecret: vars.WEBHOOK_SECRET,
    logLevel: vars.LOG_LEVEL,
    devTokens,
    metricsToken: vars.METRICS_TOKEN,
    handshakeTimeoutMs: vars.HANDSHAKE_TIMEOUT_MS,
  };
}

/** RS256 needs an RSA key, ES256 a P-256 one; anything else would fail on the first token, so fail at start. */
function assertUsablePublicKey(pem: string): void {
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = createPublicKey(pem);
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch {
    throw new ConfigError('Invalid configuration: JWT_PUBLIC_KEY must be a PEM public key');
  }
  if (type !== 'rsa' && !(type === 'ec' && curve === 'prime256v1')) {
    throw new ConfigError(
      'Invalid configuration: JWT_PUBLIC_KEY must be an RSA (RS256) or P-256 (ES256) key',
    );
  }
}
