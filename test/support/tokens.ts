import { CHILD_SECRET } from './child-server';
import { hmacJwt, nowSec } from './jwt';

/** An HS256 token for servers running in child processes (which share CHILD_SECRET). */
export function signToken(
  sub: string,
  claims: Record<string, unknown> = {},
  ttlSec = 3600,
): string {
  const now = nowSec();
  return hmacJwt({ sub, iat: now, exp: now + ttlSec, ...claims }, CHILD_SECRET);
}
