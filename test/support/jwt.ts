/**
 * JWTs built by hand with node:crypto, so that tests can produce any token, broken ones included (no `exp`,
 * `alg: none`, algorithm confusion, …), without going through the server's own signer, and read a token's claims.
 */
import { createHmac } from 'node:crypto';

export const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** Now, in seconds since the epoch (the unit of iat, nbf and exp). */
export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** `<header>.<payload>`, the signing input. */
export function unsignedJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
}

/** A token with exactly this payload, signed with HMAC (HS256 unless told). */
export function hmacJwt(
  payload: Record<string, unknown>,
  secret: string | Buffer,
  alg: 'HS256' | 'HS512' = 'HS256',
): string {
  const input = unsignedJwt({ alg, typ: 'JWT' }, payload);
  const hash = alg === 'HS256' ? 'sha256' : 'sha512';
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** The payload of a token, unverified. */
export function jwtClaims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
