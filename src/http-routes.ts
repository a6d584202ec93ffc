import type { Type } from '@nestjs/common';
import { API_CONTROLLERS } from './api/api-controllers';
import type { HubbubHttpOptions } from './config/options';
import { DevTokenController } from './dev/dev-token.controller';
import { AsyncApiController } from './docs/asyncapi.controller';
import { HealthController } from './health/health.controller';
import { HandshakeCheckController } from './http/handshake-check.controller';
import { StreamController } from './http/stream.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ApiDocsController } from './openapi/api-docs.controller';
import { AdminPageController } from './web/admin-page.controller';
import { WebController } from './web/web.controller';

/** The controllers behind each `http` option of HubbubModule (a new controller goes under the option it serves). */
const ROUTES: Record<keyof HubbubHttpOptions, Type[]> = {
  health: [HealthController],
  metrics: [MetricsController],
  api: API_CONTROLLERS,
  admin: [AdminPageController],
  docs: [AsyncApiController, ApiDocsController],
  demo: [WebController],
};

/** Every route on: the standalone server. */
export const ALL_ROUTES: Required<HubbubHttpOptions> = {
  health: true,
  metrics: true,
  api: true,
  admin: true,
  docs: true,
  demo: true,
};

/**
 * The controllers to mount: `GET /ws`'s handshake check and the HTTP transports (`/sse`, `/stream`: they belong to
 * the socket endpoint, always there, each answering 404 while TRANSPORTS leaves it out), those of
 * the enabled routes, and `POST /dev/token` when dev tokens may be on (it also
 * answers 404 while the configuration has them off). Unknown names are ignored here: the configuration provider
 * refuses them at start with one line (checkHttpOptions).
 */
export function controllersFor(http: HubbubHttpOptions | undefined, devTokens: boolean): Type[] {
  const enabled = (Object.keys(ROUTES) as (keyof HubbubHttpOptions)[]).filter(
    (name) => http?.[name] === true && (name !== 'admin' || http.api === true),
  );
  return [
    HandshakeCheckController,
    StreamController,
    ...enabled.flatMap((name) => ROUTES[name]),
    ...(devTokens ? [DevTokenController] : []),
  ];
}
