import { Controller, Get, Logger, NotFoundException, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where `client/` is: the working directory for `npm start` and the tests, else next to the code, which runs from
 * `src/web` (ts-jest), `dist/web` (`nest build`) or `dist/src/web` (a build with the project root as rootDir).
 */
export function findClientDir(): string | undefined {
  const candidates = [
    join(process.cwd(), 'client'),
    join(__dirname, '../../client'),
    join(__dirname, '../../../client'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

interface ClientFiles {
  indexHtml: string;
  sdk: string;
  /** The page's script, served as a file: the Content-Security-Policy allows no inline script. */
  pageScript: string;
}

/** Read once at start: the files are small and never change while the server runs. */
function loadClientFiles(): ClientFiles | undefined {
  const dir = findClientDir();
  if (!dir) return undefined;
  return {
    indexHtml: readFileSync(join(dir, 'index.html'), 'utf8'),
    sdk: readFileSync(join(dir, 'hubbub-client.js'), 'utf8'),
    pageScript: readFileSync(join(dir, 'chat-page.js'), 'utf8'),
  };
}

/**
 * ES modules beside hubbub-client.js and chat-page.js that they import: the SDK's transports (WebSocket, SSE, HTTP
 * streaming), its chat lifecycle and moderation methods, and the page's message list, room list and moderation.
 */
const MODULES = [
  'hubbub-transports.js',
  'hubbub-chat.js',
  'chat-page-dom.js',
  'chat-page-messages.js',
  'chat-page-rooms.js',
  'chat-page-moderation.js',
];

function loadModules(): Map<string, string> | undefined {
  const dir = findClientDir();
  if (!dir) return undefined;
  const present = MODULES.filter((name) => existsSync(join(dir, name))); // a missing one answers 404
  return new Map(present.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** `GET /`: the demo chat page, and `GET /hubbub-client.js`: the client SDK it is built on. */
@Controller()
export class WebController {
  private readonly files = loadClientFiles();
  private readonly modules = loadModules();

  constructor() {
    if (!this.files) {
      new Logger('Web').warn(
        'client/ directory not found: GET / and GET /hubbub-client.js answer 404',
      );
    }
  }

  @Get()
  index(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'indexHtml', 'text/html; charset=utf-8');
  }

  @Get('hubbub-client.js')
  sdk(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'sdk', 'application/javascript; charset=utf-8');
  }

  /** The SDK's and the page's other ES modules, each at `/<file>`. */
  @Get(MODULES)
  module(@Req() req: Request, @Res({ passthrough: true }) res: Response): string {
    const body = this.modules?.get(req.path.split('/').pop() ?? '');
    if (body === undefined) throw new NotFoundException();
    res.setHeader('Content-Type', 'application/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    return body;
  }

  @Get('chat-page.js')
  pageScript(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'pageScript', 'application/javascript; charset=utf-8');
  }

  /** Sets the headers only when there is a file, so a 404 keeps Nest's JSON error body and type. */
  private serve(res: Response, file: keyof ClientFiles, contentType: string): string {
    if (!this.files) throw new NotFoundException();
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', 'no-cache');
    return this.files[file];
  }
}
