import { Module, type ExecutionContext } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ClientAddresses } from '../common/client-address';

/** Requests per minute and remote address to `/dev/*`. */
export const DEV_TOKEN_LIMIT_PER_MIN = 30;
/** Requests per minute and remote address to `/api/*` without the right API key. */
export const API_ANONYMOUS_LIMIT_PER_MIN = 60;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

type Area = 'dev' | 'api' | undefined;

function areaOf(req: Request): Area {
  const path = req.path;
  if (path === '/dev' || path.startsWith('/dev/')) return 'dev';
  if (path === '/api' || path.startsWith('/api/')) return 'api';
  return undefined;
}

/**
 * Per remote address rate limits (`@nestjs/throttler`, 429 past them) on what anyone can call without a key:
 * `POST /dev/token`, and `/api` requests that do not carry the right API key (guessing keys, scraping docs).
 * Calls with the right key are never throttled: back ends publish through them at high rates. The address is the
 * client's ({@link ClientAddresses}): the TCP peer's, or from one of TRUSTED_PROXIES the one its `X-Forwarded-For`
 * names; from any other peer a forged `X-Forwarded-For` changes nothing.
 *
 * The guard is `ThrottlerGuard` on those controllers, not an APP_GUARD: a global guard would also run on every
 * WebSocket frame.
 */
function throttlerOptions(config: HubbubConfig): ThrottlerModuleOptions {
  const key = config.apiKey === undefined ? undefined : digest(config.apiKey);
  const hasRightKey = (req: Request): boolean => {
    if (!key) return false;
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    return given !== undefined && timingSafeEqual(digest(given), key);
  };
  const request = (context: ExecutionContext): Request =>
    context.switchToHttp().getRequest<Request>();
  const addresses = new ClientAddresses(config.trustedProxies);
  return {
    getTracker: (req) => Promise.resolve(addresses.of(req as Request)),
    throttlers: [
      {
        name: 'anonymous',
        ttl: 60_000,
        limit: (context) =>
          areaOf(request(context)) === 'dev'
            ? DEV_TOKEN_LIMIT_PER_MIN
            : API_ANONYMOUS_LIMIT_PER_MIN,
      },
    ],
    skipIf: (context) => {
      if (context.getType() !== 'http') return true;
      const req = request(context);
      const area = areaOf(req);
      return area === undefined || (area === 'api' && hasRightKey(req));
    },
    // One budget per address and area, whatever the route inside it.
    generateKey: (context, tracker, name) => `${name}:${areaOf(request(context))}:${tracker}`,
  };
}

/** The throttler, configured from HubbubModule's configuration when the app starts. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [HUBBUB_CONFIG],
      useFactory: (config: HubbubConfig) => throttlerOptions(config),
    }),
  ],
  exports: [ThrottlerModule],
})
export class HttpThrottleModule {}
