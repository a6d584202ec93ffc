/** Thrown with one line that names the offending key; main.ts prints it and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
