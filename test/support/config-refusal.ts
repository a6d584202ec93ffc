import { ConfigError, loadConfig } from '../../src/config/config';

/** Runs loadConfig expecting a refusal; returns the message after checking it is a single line. */
export function refusal(env: Record<string, string | undefined>): string {
  let error: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as ConfigError).message;
  expect(message).not.toContain('\n');
  return message;
}
