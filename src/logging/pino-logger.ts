import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/**
 * Nest's logger interface over pino: one JSON line per entry, at LOG_LEVEL. Anything that looks like a
 * credential is redacted by path, and nothing in Hubbub ever logs a token or a request URL's query string.
 */
export class PinoLogger implements LoggerService {
  private readonly pino: Logger;

  constructor(level: string, node: string) {
    this.pino = pino({
      level,
      base: { node },
      redact: [
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'access_token',
      ],
    });
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes the context (class name) as the last string argument, and a stack before it for errors. */
  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const args = [...rest];
    const context = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const stack =
      level === 'error' && typeof args[0] === 'string' ? (args.shift() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
