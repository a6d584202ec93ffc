import {
  Catch,
  HttpException,
  UseFilters,
  type ExceptionFilter,
  type Logger,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ERROR_CODES, HubbubError, type ErrorCode } from '../protocol/errors';
import { loggableError } from '../common/log-error';

const isErrorCode = (v: unknown): v is ErrorCode =>
  typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);

/**
 * Whatever a guard, pipe, interceptor or handler threw, when no exception filter handled it, as a HubbubError: the
 * FrameRouter alone knows the request's `id`, so it alone writes the `error` frame. Nest's own exceptions map to
 * the closest contract code (a guard's refusal is `forbidden`, a ValidationPipe's 400 is `validation_failed`);
 * anything unknown is `internal`, logged with its stack on the server only.
 */
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

/**
 * Nest's own WebSocket gateways answer a `WsException` without logging it (it is the client's error), whereas the
 * handler wrapping Hubbub uses (ExternalContextCreator) logs every non-intrinsic error it is left with. So every
 * Hubbub gateway carries this one filter: a `WsException` that none of the gateway's own method or class filters
 * handled becomes the contract error it stands for, unlogged.
 */
@Catch(WsException)
export class WsExceptionFilter implements ExceptionFilter {
  catch(exception: WsException): never {
    throw toHubbubError(exception);
  }
}

/** The metadata key `@UseFilters` writes on a class, read back from the public decorator. */
const FILTERS_KEY = ((): string => {
  class Probe {}
  UseFilters(new WsExceptionFilter())(Probe);
  return (Reflect.getOwnMetadataKeys(Probe) as string[])[0];
})();

/** Puts the filter first in the class's list, so that Nest consults it after the class's own filters. */
export function addWsExceptionFilter(target: object): void {
  const filters = (Reflect.getOwnMetadata(FILTERS_KEY, target) as unknown[] | undefined) ?? [];
  Reflect.defineMetadata(FILTERS_KEY, [new WsExceptionFilter(), ...filters], target);
}
