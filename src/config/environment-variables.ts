import { Transform } from 'class-transformer';
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
} from 'class-validator';

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

/** `websocket,sse,stream` or any non-empty subset (section 10 of the contract). */
const TRANSPORT_LIST = /^\s*(websocket|sse|stream)\s*(,\s*(websocket|sse|stream)\s*)*$/;

/**
 * The environment as the process receives it. Every key of the contract is validated here, once, at boot;
 * the rest of the code only sees the typed `HubbubConfig` (config.ts) built from it.
 */
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
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(SENTINEL_LIST, { message: 'REDIS_CLUSTER_NODES must be a comma list of host:port' })
  REDIS_CLUSTER_NODES?: string;
  @Transform(toInt) @IsInt() @Min(1) @Max(1024) REDIS_PUBSUB_PARTITIONS = 64;
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
  @Transform(blankToUndefined)
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RETENTION_DAYS?: number;
  @Transform(toInt) @IsInt() @Min(1) RETENTION_SWEEP_MS = 60000;
  @Matches(TRANSPORT_LIST, {
    message: '$property must be a comma list of websocket, sse and stream',
  })
  TRANSPORTS = 'websocket,sse,stream';
}
