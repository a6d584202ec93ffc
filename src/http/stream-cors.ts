import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubbubConfig } from '../config/config';

/**
 * CORS for the HTTP transports: a page on another origin within ALLOWED_ORIGINS (any origin while it is unset, as
 * for `/ws`) may open `GET /sse` (EventSource), `POST /stream` and `POST /stream/send` (fetch, with an
 * `Authorization` header, hence the preflight). The origin is echoed, never `*`, and never for one outside the list
 * (the request itself is then refused 403 by the origin check, as a handshake would be).
 */
export function allowOrigin(config: HubbubConfig, req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('Vary', 'Origin');
  if (origin === undefined || (config.allowedOrigins && !config.allowedOrigins.has(origin))) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
}

/** The preflight's answer: 204 with what the transports need, or 403 for an origin outside ALLOWED_ORIGINS. */
export function preflight(config: HubbubConfig, req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (origin !== undefined && config.allowedOrigins && !config.allowedOrigins.has(origin)) {
    res.statusCode = 403;
    res.end();
    return;
  }
  allowOrigin(config, req, res);
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID');
  res.setHeader('Access-Control-Max-Age', '600');
  res.statusCode = 204;
  res.end();
}
