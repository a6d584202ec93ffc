import { ConfigError, EnvironmentVariables, loadConfig, type HubbubConfig } from './config';

/** `MAX_PAYLOAD_BYTES` → `maxPayloadBytes`. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

/** Keys of the standalone server only: an app that imports HubbubModule listens itself. */
type StandaloneOnly = 'PORT' | 'HOST';

type OptionValue<T> = T extends boolean ? boolean : T extends number ? number : string;

/** The HTTP routes HubbubModule mounts in the app that imports it: each off unless enabled here. */
export interface HubbubHttpOptions {
  /** `GET /health` and `GET /health/ready`. */
  health?: boolean;
  /** `GET /metrics` (Prometheus; `metricsToken` protects it). */
  metrics?: boolean;
  /** The server API, `/api/*` (answering only with `apiKey` set). */
  api?: boolean;
  /** The dashboard at `/admin`; it reads the server API, so it needs `api` too. */
  admin?: boolean;
  /** `GET /asyncapi.json`, and `/api/docs` with `/api/openapi.json` while `apiKey` is set. */
  docs?: boolean;
  /** The chat page at `/`. */
  demo?: boolean;
}

const HTTP_ROUTES = ['health', 'metrics', 'api', 'admin', 'docs', 'demo'];

/**
 * HubbubModule's options: the contract's configuration keys, camelCased (`MAX_PAYLOAD_BYTES` →
 * `maxPayloadBytes`, `NODE_ENV` → `nodeEnv`), typed, all optional with the contract's defaults (except `devTokens`:
 * off unless `true`). List-valued keys (`allowedOrigins`) also take an array. `http` chooses the routes mounted.
 */
export type HubbubOptions = { http?: HubbubHttpOptions } & {
  [
    K in Exclude<keyof EnvironmentVariables, StandaloneOnly> as CamelCase<K>
  ]?: K extends 'ALLOWED_ORIGINS'
    ? string | string[]
    : OptionValue<NonNullable<EnvironmentVariables[K]>>;
};

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const KNOWN = new Set(
  Object.keys(new EnvironmentVariables()).concat('DEV_TOKENS', 'JWT_SECRET', 'JWT_PUBLIC_KEY'),
);

/**
 * Validates options exactly as the environment is validated (same rules, same one-line ConfigError naming the
 * key), by turning them into the environment they stand for.
 */
export function configFromOptions(options: HubbubOptions): HubbubConfig {
  // In a team's app dev tokens are on only when asked (the environment's default does not apply).
  const env: Record<string, string> = { DEV_TOKENS: 'false' };
  for (const [key, value] of Object.entries(options as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (key === 'http') {
      checkHttpOptions(value);
      continue;
    }
    const name = snake(key);
    if (!KNOWN.has(name) || name === 'PORT' || name === 'HOST') {
      throw new ConfigError(`Invalid configuration: unknown option ${key}`);
    }
    if (Array.isArray(value)) env[name] = value.join(',');
    else if (typeof value === 'string') env[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') env[name] = String(value);
    else
      throw new ConfigError(
        `Invalid configuration: option ${key} must be a string, number or boolean`,
      );
  }
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(withOptionNames(err.message));
    throw err;
  }
}

/**
 * A refusal from the environment's rules, unchanged, followed by the options a team writes for the keys it names:
 * `… MAX_PAYLOAD_BYTES must not be less than 64 (option maxPayloadBytes)`.
 */
function withOptionNames(message: string): string {
  const keys = message.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\b/g) ?? [];
  const options = [...new Set(keys.filter((key) => KNOWN.has(key)).map(camel))];
  if (options.length === 0) return message;
  return `${message} (option${options.length > 1 ? 's' : ''} ${options.join(', ')})`;
}

const camel = (name: string): string =>
  name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `http`: an object of the known route names, each a boolean; `admin` only with `api`. */
export function checkHttpOptions(http: unknown): asserts http is HubbubHttpOptions {
  if (http === undefined) return;
  if (typeof http !== 'object' || http === null || Array.isArray(http)) {
    throw new ConfigError('Invalid configuration: option http must be an object of booleans');
  }
  for (const [key, value] of Object.entries(http)) {
    if (!HTTP_ROUTES.includes(key)) {
      throw new ConfigError(
        `Invalid configuration: unknown option http.${key} (known: ${HTTP_ROUTES.join(', ')})`,
      );
    }
    if (value !== undefined && typeof value !== 'boolean') {
      throw new ConfigError(`Invalid configuration: option http.${key} must be a boolean`);
    }
  }
  const routes = http as HubbubHttpOptions;
  if (routes.admin && !routes.api) {
    throw new ConfigError(
      'Invalid configuration: option http.admin needs http.api (the dashboard reads the server API)',
    );
  }
}
