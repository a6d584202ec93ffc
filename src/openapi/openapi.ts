import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
} from '@nestjs/swagger';
import type { HubbubConfig } from '../config/config';
import { documentApiRoutes } from './api-routes';
import { HttpErrorResponse } from './api-schemas';

export const OPENAPI_JSON_PATH = 'api/openapi.json';
export const OPENAPI_UI_PATH = 'api/docs';
const SECURITY = 'apiKey';

/** The OpenAPI 3 document of the server API (`/api/...` routes only). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  documentApiRoutes();
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
 * Serves the document at GET /api/openapi.json and Swagger UI at GET /api/docs, only while the API is on; without
 * API_KEY neither route exists (404). Call before the application listens.
 */
export function setupApiDocs(app: INestApplication, config: HubbubConfig): void {
  if (!config.apiKey) return;
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Hubbub server API',
  });
}
