import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { buildOpenApiDocument, OPENAPI_SOURCE, type OpenApiSource } from './openapi';

const JS = 'application/javascript; charset=utf-8';
/** The files of swagger-ui-dist the page loads, with their types (nothing else of that folder is served). */
const UI_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': JS,
  'swagger-ui-standalone-preset.js': JS,
  'favicon-32x32.png': 'image/png',
};

/** Paths relative to /api/docs (no inline script: the CSP of http-hardening allows none). */
const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hubbub server API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-ui-standalone-preset.js"></script>
<script src="docs/swagger-ui-init.js"></script>
</body>
</html>
`;

const INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    persistAuthorization: true,
  });
};
`;

/**
 * `GET /api/openapi.json` (the OpenAPI document of the server API, built on the first request) and Swagger UI at
 * `GET /api/docs`, under `http.docs`; like the API itself, only while API_KEY is set (404 otherwise). Plain
 * controller routes, so HubbubModule mounts them in a team's app with no call from the app.
 */
@ApiExcludeController()
@Controller('api')
export class ApiDocsController {
  private document?: Promise<OpenAPIObject>;
  private uiDir?: string;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    @Inject(OPENAPI_SOURCE) private readonly source: OpenApiSource,
  ) {}

  @Get('openapi.json')
  @Header('Cache-Control', 'no-cache')
  openapi(): Promise<OpenAPIObject> {
    this.requireApi();
    this.document ??= buildOpenApiDocument(this.source());
    this.document.catch(() => (this.document = undefined));
    return this.document;
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  page(): string {
    this.requireApi();
    return PAGE;
  }

  @Get('docs/swagger-ui-init.js')
  @Header('Content-Type', JS)
  @Header('Cache-Control', 'no-cache')
  init(): string {
    this.requireApi();
    return INIT;
  }

  @Get('docs/:file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) res: Response): StreamableFile {
    this.requireApi();
    const type = Object.hasOwn(UI_FILES, file) ? UI_FILES[file] : undefined;
    if (!type) throw new NotFoundException();
    this.uiDir ??= dirname(require.resolve('swagger-ui-dist/package.json'));
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'public, max-age=86400');
    return new StreamableFile(createReadStream(join(this.uiDir, file)));
  }

  private requireApi(): void {
    if (!this.config.apiKey) throw new NotFoundException();
  }
}
