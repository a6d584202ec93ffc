import {
  ArgumentsHost,
  Catch,
  HttpException,
  Logger,
  type WsExceptionFilter,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ERROR_CODES, HubbubError, type ErrorCode } from '../protocol/errors';
import { loggableError } from '../common/log-error';

const isErrorCode = (v: unknown): v is ErrorCode =>
  typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);

/**
 * Normalizes whatever a guard, pipe or handler threw into a HubbubError and rethrows it. Nest's WsProxy lets a
 * filter's throw reject the handler's promise, which is how the error reaches the adapter: the adapter alone knows
 * the request's `id`, so it alone writes the `error` frame.
 */
@Catch()
export class WsErrorFilter implements WsExceptionFilter {
  private readonly logger = new Logger('WsErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): never {
    throw toHubbubError(exception, this.logger);
  }
}

export function toHubbubError(exception: unknown, logger?: Logger): HubbubError {
  if (exception instanceof HubbubError) return exception;
  if (exception instanceof WsException) {
    const error = exception.getError();
    if (typeof error === 'object' && error !== null) {
      const { code, message, details } = error as {
        code?: unknown;
        message?: unknown;
        details?: unknown;
      };
      if (isErrorCode(code)) {
        return new HubbubError(code, typeof message === 'string' ? message : undefined, details);
      }
    }
    // Nest's guards answer `false` with WsException('Forbidden resource').
    if (error === 'Forbidden resource') return new HubbubError('forbidden');
    return new HubbubError('bad_request', typeof error === 'string' ? error : 'Bad request');
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 400) {
      const response = exception.getResponse() as { message?: unknown };
      return new HubbubError('validation_failed', 'Validation failed', response.message);
    }
    if (status === 401 || status === 403) return new HubbubError('forbidden', exception.message);
    if (status === 404) return new HubbubError('not_found', exception.message);
    if (status === 429) return new HubbubError('rate_limited', exception.message);
  }
  logger?.error(loggableError(exception));
  return new HubbubError('internal');
}
