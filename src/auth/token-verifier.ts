import { Inject, Injectable } from '@nestjs/common';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { createPublicKey } from 'node:crypto';
import { HUBBUB_CONFIG, type HubbubConfig, type JwtAlgorithm } from '../config/config';
import { isValidUserId } from '../protocol/validators';
import type { Principal } from './principal';

/** `exp` (seconds) must come before 3000-01-01T00:00:00Z. */
const MAX_EXP = Date.UTC(3000, 0, 1) / 1000;
const MAX_NAME_LENGTH = 128;

/** A verified token's claims. */
export type JwtClaims = Record<string, unknown>;

/** Why a token was refused. The message is safe to show; it never contains the token. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && x.isWellFormed());

/**
 * Verifies client JWTs. The algorithm is pinned by configuration (HS256 with JWT_SECRET, or the public key's own
 * RS256/ES256), so `alg: none` and algorithm-confusion tokens (HS256 signed with the public key) are refused.
 *
 * Through fast-jwt, which verifies synchronously with node:crypto. jose, used before, verifies through WebCrypto:
 * an async job per token through libuv's pool, and an HS256 secret imported again for every token. That was 31%
 * of a handshake's CPU (connects profile, docs/benchmarks.md). fast-jwt checks the same rules: signature with the
 * pinned algorithm, `exp` and `nbf` without tolerance, `iss` and `aud` when configured, the required claims, and
 * refuses unknown `crit` headers.
 */
@Injectable()
export class TokenVerifier {
  readonly algorithm: JwtAlgorithm;
  private readonly verifyConnection: (token: string) => JwtClaims;
  private readonly verifyOther: (token: string) => JwtClaims;
  private readonly signer?: (payload: JwtClaims) => string;

  constructor(@Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig) {
    let key: string | Buffer;
    if (config.jwt.publicKey) {
      const publicKey = createPublicKey(config.jwt.publicKey);
      this.algorithm = publicKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
      key = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    } else {
      this.algorithm = 'HS256';
      key = Buffer.from(config.jwt.secret!);
      this.signer = createSigner({ key, algorithm: 'HS256' });
    }
    const rules = {
      key,
      algorithms: [this.algorithm],
      clockTolerance: 0,
      ...(config.jwt.issuer === undefined ? {} : { allowedIss: config.jwt.issuer }),
      ...(config.jwt.audience === undefined ? {} : { allowedAud: config.jwt.audience }),
    };
    // fast-jwt checks iss/aud only when the token has them: configured, they are required too (as jose did).
    const configured = [
      ...(config.jwt.issuer === undefined ? [] : ['iss']),
      ...(config.jwt.audience === undefined ? [] : ['aud']),
    ];
    this.verifyConnection = createVerifier({
      ...rules,
      requiredClaims: ['exp', 'sub', ...configured],
    });
    this.verifyOther = createVerifier({ ...rules, requiredClaims: ['exp', ...configured] });
  }

  verify(token: string): Promise<Principal> {
    return Promise.resolve().then(() => toPrincipal(check(this.verifyConnection, token)));
  }

  /**
   * Verifies a token signed like connection tokens (same key, algorithm, issuer and audience) and returns its
   * claims, `exp` required; used for subscription tokens, whose claims are not a connection's.
   */
  verifyClaims(token: string): Promise<JwtClaims> {
    return Promise.resolve().then(() => check(this.verifyOther, token));
  }

  /** Signs a development token; only possible with an HS256 secret. */
  sign(claims: { sub: string; name?: string; roles?: string[] }, ttlSec: number): Promise<string> {
    if (!this.signer) return Promise.reject(new Error('Tokens can only be signed with JWT_SECRET'));
    const now = Math.floor(Date.now() / 1000);
    const payload: JwtClaims = { ...claims, iat: now, exp: now + ttlSec };
    if (this.config.jwt.issuer) payload.iss = this.config.jwt.issuer;
    if (this.config.jwt.audience) payload.aud = this.config.jwt.audience;
    return Promise.resolve(this.signer(payload));
  }
}

function check(verify: (token: string) => JwtClaims, token: string): JwtClaims {
  try {
    const claims = verify(token);
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw new InvalidTokenError('malformed token');
    }
    return claims;
  } catch (err) {
    if (err instanceof InvalidTokenError) throw err;
    throw new InvalidTokenError(describe(err));
  }
}

/** What a refused token is told, by fast-jwt's error code; the others are "malformed token". */
const REASONS: Partial<Record<string, string>> = {
  [TokenError.codes.expired]: 'token expired',
  [TokenError.codes.inactive]: 'claim "nbf" check failed',
  [TokenError.codes.invalidAlgorithm]: 'algorithm not allowed',
  [TokenError.codes.invalidSignature]: 'bad signature',
};
/** Claim errors: fast-jwt's message names the claim ("The iss claim value is not allowed."), never the token. */
const CLAIM_ERRORS = new Set<string>([
  TokenError.codes.missingRequiredClaim,
  TokenError.codes.invalidClaimValue,
  TokenError.codes.invalidClaimType,
]);

function describe(err: unknown): string {
  if (!(err instanceof TokenError)) return 'malformed token';
  if (CLAIM_ERRORS.has(err.code)) return err.message;
  return REASONS[err.code] ?? 'malformed token';
}

export function toPrincipal(payload: JwtClaims): Principal {
  const { sub, exp, name, roles, rooms, publish, subscribe, channel } = payload;
  // A subscription token grants one channel (channel.subscribe {token}); it never opens a connection.
  if (channel !== undefined)
    throw new InvalidTokenError('a subscription token (claim "channel") is not a connection token');
  // Control, bidi-override and zero-width characters are refused too: user ids end up in topic names, log lines
  // and on other users' screens.
  if (!isValidUserId(sub)) {
    throw new InvalidTokenError(
      'claim "sub" must be a well-formed string of 1..128 characters without control, bidi-override or zero-width characters',
    );
  }
  if (typeof exp !== 'number' || !Number.isInteger(exp) || exp < 0 || exp >= MAX_EXP) {
    throw new InvalidTokenError('claim "exp" must be an integer before the year 3000');
  }
  if (
    name !== undefined &&
    (typeof name !== 'string' || name.length > MAX_NAME_LENGTH || !name.isWellFormed())
  )
    throw new InvalidTokenError(
      `claim "name" must be a well-formed string of at most ${MAX_NAME_LENGTH} characters`,
    );
  checkStringArray('roles', roles);
  checkStringArray('rooms', rooms);
  checkStringArray('publish', publish);
  checkStringArray('subscribe', subscribe);
  return {
    userId: sub,
    name: name,
    roles: (roles as string[] | undefined) ?? [],
    rooms: (rooms as string[] | undefined) ?? [],
    publish: (publish as string[] | undefined) ?? [],
    subscribe: (subscribe as string[] | undefined) ?? [],
    expiresAt: exp * 1000,
  };
}

function checkStringArray(claim: string, value: unknown): void {
  if (value !== undefined && !isStringArray(value)) {
    throw new InvalidTokenError(`claim "${claim}" must be an array of well-formed strings`);
  }
}
