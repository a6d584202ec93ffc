import { Controller, Get, Inject, NotFoundException, Res } from '@nestjs/common';
import type { Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { findClientDir } from './web.controller';

interface Asset {
  body: string;
  type: string;
}

const JS = 'application/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The dashboard's files, read once at start: client/admin.* and uPlot's browser build. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const client = findClientDir();
  const uplot = uplotDir();
  const files: [name: string, path: string | undefined, type: string][] = [
    ['admin.html', client && join(client, 'admin.html'), 'text/html; charset=utf-8'],
    ['admin.js', client && join(client, 'admin.js'), JS],
    ['admin-room.js', client && join(client, 'admin-room.js'), JS],
    ['admin.css', client && join(client, 'admin.css'), CSS],
    ['uplot.iife.min.js', uplot && join(uplot, 'uPlot.iife.min.js'), JS],
    ['uplot.min.css', uplot && join(uplot, 'uPlot.min.css'), CSS],
  ];
  for (const [name, path, type] of files) {
    if (path && existsSync(path)) assets.set(name, { body: readFileSync(path, 'utf8'), type });
  }
  return assets;
}

function uplotDir(): string | undefined {
  try {
    return join(dirname(require.resolve('uplot/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

const DASHBOARD_OFF =
  '<!doctype html><meta charset="utf-8"><title>Hubbub: dashboard off</title>' +
  '<h1>The admin dashboard is off</h1>' +
  '<p>Set <code>API_KEY</code> (in the environment or <code>.env</code>) and restart: it turns on the server API ' +
  'and this dashboard, which asks for that key. See docs/dashboard.md.</p>\n';

/**
 * `GET /admin`: the admin dashboard, a static page that reads the server API with the API key the operator
 * types in. It exists only while the API does (API_KEY set): 404 otherwise, like the API itself, with a page that
 * says to set API_KEY.
 */
@Controller('admin')
export class AdminPageController {
  private readonly assets?: Map<string, Asset>;

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    if (config.apiKey) this.assets = loadAssets();
  }

  @Get()
  page(@Res({ passthrough: true }) res: Response): string {
    if (!this.assets) {
      // Still a 404 (the dashboard does not exist), but one that says what turns it on.
      res.status(404).setHeader('Content-Type', 'text/html; charset=utf-8');
      return DASHBOARD_OFF;
    }
    return this.serve(res, 'admin.html');
  }

  @Get('admin.js')
  script(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'admin.js');
  }

  @Get('admin-room.js')
  roomScript(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'admin-room.js');
  }

  @Get('admin.css')
  style(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'admin.css');
  }

  @Get('uplot.iife.min.js')
  uplotScript(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'uplot.iife.min.js');
  }

  @Get('uplot.min.css')
  uplotStyle(@Res({ passthrough: true }) res: Response): string {
    return this.serve(res, 'uplot.min.css');
  }

  private serve(res: Response, name: string): string {
    const asset = this.assets?.get(name);
    if (!asset) throw new NotFoundException();
    res.setHeader('Content-Type', asset.type);
    res.setHeader('Cache-Control', 'no-cache');
    return asset.body;
  }
}
