import {
  Logger,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
} from '@nestjs/swagger';
import { documentApiRoutes } from './api-routes';
import { documentMessagesApiRoutes } from './messages-api-routes';
import { HttpErrorResponse } from './api-schemas';

export const OPENAPI_JSON_PATH = 'api/openapi.json';
export const OPENAPI_UI_PATH = 'api/docs';
const SECURITY = 'apiKey';

/**
 * Provider token: the module the document is read from (HubbubModule with the server API mounted and the running
 * instance's configuration), as a function, so that it is built only when the document is.
 */
export const OPENAPI_SOURCE = Symbol('OPENAPI_SOURCE');
export type OpenApiSource = () => DynamicModule;

/**
 * The OpenAPI 3 document of the server API (`/api/...` routes only). SwaggerModule reads routes from an
 * application, and a module cannot reach the application it is imported into through Nest's public API: so the
 * document is read from an application of its own made from `source`, created in Nest's preview mode (modules
 * scanned and their dependencies checked, nothing instantiated: no connection, no timer, never listening) and
 * closed once read. Nest's logger is static, shared with the app that serves the document: while the preview
 * application exists it drops that application's start lines (one per module) and passes every other line on,
 * then is given back as it was.
 */
export async function buildOpenApiDocument(source: DynamicModule): Promise<OpenAPIObject> {
  const previous = NestLogger.current;
  const app = await NestFactory.create(source, {
    preview: true,
    logger: previous ? withoutStartLines(previous) : false,
    abortOnError: false,
  });
  try {
    return documentOf(app);
  } finally {
    await app.close();
    Logger.overrideLogger(previous ?? false);
  }
}

/** Reads Nest's static logger: a protected static field, readable by a subclass (never instantiated). */
class NestLogger extends Logger {
  static get current(): LoggerService | undefined {
    return Logger.staticInstanceRef;
  }
}

/** Contexts of the start lines NestFactory.create writes. */
const START_CONTEXTS = new Set(['NestFactory', 'InstanceLoader']);

function withoutStartLines(logger: LoggerService): LoggerService {
  const pass =
    (level: 'log' | 'warn' | 'debug' | 'verbose') =>
    (message: unknown, ...rest: unknown[]): void => {
      if (!START_CONTEXTS.has(rest[rest.length - 1] as string)) logger[level]?.(message, ...rest);
    };
  return {
    log: pass('log'),
    warn: pass('warn'),
    debug: pass('debug'),
    verbose: pass('verbose'),
    error: (message: unknown, ...rest: unknown[]): void => void logger.error(message, ...rest),
    fatal: (message: unknown, ...rest: unknown[]): void => void logger.fatal?.(message, ...rest),
  };
}

function documentOf(app: INestApplication): OpenAPIObject {
  documentApiRoutes();
  documentMessagesApiRoutes();
  const info = new DocumentBuilder()
    .setTitle('Hubbub server API')
    .setDescription(
      'The REST API for back ends: publish to channels, post to rooms, read history and presence, broadcast, ' +
        'disconnect users. On only while API_KEY is set; every call needs `Authorization: Bearer <API_KEY>`. ' +
        'The WebSocket protocol is described by the AsyncAPI document at /asyncapi.json.',
    )
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'The API_KEY of the server' },
      SECURITY,
    )
    .addSecurityRequirements(SECURITY)
    .build();
  const document = SwaggerModule.createDocument(app, info, {
    extraModels: [HttpErrorResponse],
  });
  document.paths = Object.fromEntries(
    Object.entries(document.paths).filter(([path]) => path.startsWith('/api/')),
  );
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) addCommonAnswers(operation);
    }
  }
  return document;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const ERROR_CONTENT = {
  'application/json': { schema: { $ref: `#/components/schemas/${HttpErrorResponse.name}` } },
};

/** What every /api route answers, whichever controller declares it: the guard's and the rate limiter's statuses. */
function addCommonAnswers(operation: OperationObject): void {
  operation.tags ??= ['server API'];
  if (operation.tags.length === 0) operation.tags.push('server API');
  operation.responses['401'] ??= {
    description: 'Missing or wrong API key',
    content: ERROR_CONTENT,
  };
  operation.responses['404'] ??= { description: 'The API is off (API_KEY unset)' };
  operation.responses['429'] ??= { description: 'Too many requests without the right key' };
}

/**
 * @deprecated No longer needed: `http.docs` (HubbubModule) serves `/api/docs` and `/api/openapi.json` itself
 * (ApiDocsController). Kept, doing nothing, so that apps written for earlier versions still start.
 */
export function setupApiDocs(_app?: unknown, _config?: unknown): void {}
