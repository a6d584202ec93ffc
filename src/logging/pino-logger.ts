import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError } from '../config/config-error';

/**
 * Nest's start-up chatter: one line per module, route and gateway message. Logged at debug, so that LOG_LEVEL=info
 * shows what an operator needs (listening on…, warnings) and LOG_LEVEL=debug still shows the routes.
 */
const CHATTY_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'WebSocketsController',
]);

/**
 * Nest's logger interface over pino at LOG_LEVEL: one JSON line per entry, or, with `pretty` (development), one
 * readable line (`12:00:01.234 INFO  Hubbub: listening on …`) through pino-pretty, written synchronously in this
 * thread. Anything that looks like a credential is redacted by path, and nothing in Hubbub ever logs a token or a
 * request URL's query string.
 */
export class PinoLogger implements LoggerService {
  private readonly pino: Logger;

  /** `destination`: where the lines go (tests); stdout by default. */
  constructor(
    level: string,
    node: string,
    options: { pretty?: boolean; destination?: NodeJS.WritableStream } = {},
  ) {
    const config = {
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
    };
    this.pino = options.pretty
      ? pino(
          config,
          pretty({
            sync: true,
            destination: options.destination ?? 1,
            colorize: !options.destination && process.stdout.isTTY === true,
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname,node,context',
            messageFormat: '{if context}{context}: {end}{msg}',
            singleLine: true,
          }),
        )
      : options.destination
        ? pino(config, options.destination)
        : pino(config);
  }

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    const chatty = typeof context === 'string' && CHATTY_CONTEXTS.has(context);
    this.write(chatty ? 'debug' : 'info', message, rest);
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
    if (message instanceof ConfigError) {
      // A start-up refusal (store unreachable, ...): its one line names the key; a stack would only hide it.
      this.pino[level](fields, message.message);
    } else if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
