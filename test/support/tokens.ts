import { TEST_SECRET } from './secret';
import { hmacJwt, nowSec } from './jwt';

/** An HS256 token signed with TEST_SECRET, which every test server (in process or child) accepts. */
export function signToken(
  sub: string,
  claims: Record<string, unknown> = {},
  ttlSec = 3600,
): string {
  const now = nowSec();
  return hmacJwt({ sub, iat: now, exp: now + ttlSec, ...claims }, TEST_SECRET);
}
