import { Logger, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { IncomingMessage } from 'node:http';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../protocol/json-depth';

const TOO_DEEP = Symbol('hubbub.tooDeep');
type MarkedRequest = IncomingMessage & { [TOO_DEEP]?: boolean };

/**
 * What every HTTP answer gets, wired once in bootstrap (before Nest registers its routes):
 * - helmet's headers, with a CSP that allows no inline script (the chat page loads its script from a file) and
 *   `frame-ancestors 'none'`; no `X-Powered-By`;
 * - JSON bodies nested deeper than MAX_JSON_DEPTH, and malformed ones, answered 400 in Nest's error shape: never a
 *   stack trace in the body or the log.
 */
export function applyHttpHardening(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'frame-ancestors': ["'none'"],
          // The server often runs on plain HTTP (development, behind a TLS proxy): no forced upgrade.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  // Registered before Nest's own `jsonParser`, which Nest then skips (same options otherwise). The depth is read
  // from the raw bytes; V8's JSON.parse itself copes with deep input, the code that walks the result may not.
  express.use(
    json({
      verify: (req: MarkedRequest, _res: unknown, body: Buffer) => {
        if (exceedsJsonDepth(body)) req[TOO_DEEP] = true;
      },
    }),
  );
  express.use((req: Request, res: Response, next: NextFunction) => {
    if ((req as MarkedRequest)[TOO_DEEP]) {
      return void res
        .status(400)
        .json(badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    next();
  });
  express.use(bodyErrors);
}

function badRequest(message: string): { statusCode: number; message: string; error: string } {
  return { statusCode: 400, message, error: 'Bad Request' };
}

const log = new Logger('Http');

/** Errors of the body parsers (malformed JSON, too large, bad charset): their status, a short message, no stack. */
function bodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500 || res.headersSent) {
    return next(err);
  }
  const type = (err as { type?: unknown }).type;
  const message =
    type === 'entity.parse.failed'
      ? 'Malformed JSON body'
      : (err as { expose?: boolean }).expose && err instanceof Error
        ? err.message
        : 'Bad request body';
  log.debug(`refused a request body: ${message}`);
  res.status(status).json({ statusCode: status, message, error: statusText(status) });
}

function statusText(status: number): string {
  return status === 413
    ? 'Payload Too Large'
    : status === 415
      ? 'Unsupported Media Type'
      : 'Bad Request';
}
