import { createHmac } from 'node:crypto';
import { CHILD_SECRET } from './child-server';

/** An HS256 token for servers running in child processes (which share CHILD_SECRET). */
export function signToken(sub: string, claims: Record<string, unknown> = {}, ttlSec = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + ttlSec, ...claims })}`;
  return `${unsigned}.${createHmac('sha256', CHILD_SECRET).update(unsigned).digest('base64url')}`;
}
