/**
 * Thrown with one line that names the offending key; main.ts prints it and exits 1. Its `stack` is that line alone:
 * in a team's app, where Nest's exception handler logs what a module throws at start, it is still one line.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(message: string) {
    super(message);
    this.stack = `ConfigError: ${message}`;
  }
}
