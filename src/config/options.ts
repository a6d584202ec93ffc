import { ConfigError, EnvironmentVariables, loadConfig, type HubbubConfig } from './config';

/** `MAX_PAYLOAD_BYTES` → `maxPayloadBytes`. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

/** Keys of the standalone server only: an app that imports HubbubModule listens itself. */
type StandaloneOnly = 'PORT' | 'HOST';

type OptionValue<T> = T extends boolean ? boolean : T extends number ? number : string;

/**
 * HubbubModule's options: the contract's configuration keys, camelCased (`MAX_PAYLOAD_BYTES` →
 * `maxPayloadBytes`, `NODE_ENV` → `nodeEnv`), typed, all optional with the contract's defaults. List-valued keys
 * (`allowedOrigins`) also take an array.
 */
export type HubbubOptions = {
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
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options as Record<string, unknown>)) {
    if (value === undefined) continue;
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
  return loadConfig(env);
}
