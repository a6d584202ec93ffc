import { Inject, Injectable } from '@nestjs/common';
import { createPublicKey, KeyObject, webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { HUBBUB_CONFIG, type HubbubConfig, type JwtAlgorithm } from '../config/config';
import { isValidUserId } from '../protocol/validators';
import type { Principal } from './principal';

/** `exp` (seconds) must come before 3000-01-01T00:00:00Z. */
const MAX_EXP = Date.UTC(3000, 0, 1) / 1000;
const MAX_NAME_LENGTH = 128;

/** Why a token was refused. The message is safe to show; it never contains the token. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Verifies client JWTs. The algorithm is pinned by configuration (HS256 with JWT_SECRET, or the public key's own
 * RS256/ES256), so `alg: none` and algorithm-confusion tokens (HS256 signed with the public key) are refused.
 */
@Injectable()
export class TokenVerifier {
  readonly algorithm: JwtAlgorithm;
  /**
   * The key in the form jose uses as it is. jose imports a raw HS256 secret (a Uint8Array) into a CryptoKey on every
   * verification (≈ 8% of a handshake's CPU in the connects profile, docs/benchmarks.md), so the secret is imported
   * once here. A public KeyObject is converted once by jose itself and cached.
   */
  private readonly key: Promise<webcrypto.CryptoKey> | KeyObject;

  constructor(@Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig) {
    if (config.jwt.publicKey) {
      const key = createPublicKey(config.jwt.publicKey);
      this.key = key;
      this.algorithm = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    } else {
      this.key = webcrypto.subtle.importKey(
        'raw',
        config.jwt.secret!,
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
      // Seen as handled now; a failed import still fails every verification that awaits it.
      this.key.catch(() => undefined);
      this.algorithm = 'HS256';
    }
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.key, {
        algorithms: [this.algorithm],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw new InvalidTokenError(describeJoseError(err));
    }
    return toPrincipal(payload);
  }

  /**
   * Verifies a token signed like connection tokens (same key, algorithm, issuer and audience) and returns its
   * claims, `exp` required; used for subscription tokens, whose claims are not a connection's.
   */
  async verifyClaims(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: [this.algorithm],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (err) {
      throw new InvalidTokenError(describeJoseError(err));
    }
  }

  /** Signs a development token; only possible with an HS256 secret. */
  async sign(
    claims: { sub: string; name?: string; roles?: string[] },
    ttlSec: number,
  ): Promise<string> {
    if (this.algorithm !== 'HS256') throw new Error('Tokens can only be signed with JWT_SECRET');
    let jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSec);
    if (this.config.jwt.issuer) jwt = jwt.setIssuer(this.config.jwt.issuer);
    if (this.config.jwt.audience) jwt = jwt.setAudience(this.config.jwt.audience);
    return jwt.sign(await this.key);
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" ${err.reason}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  return 'malformed token';
}

export function toPrincipal(payload: JWTPayload): Principal {
  const { sub, exp, name, roles, rooms, publish, subscribe } = payload as JWTPayload &
    Record<string, unknown>;
  // Control, bidi-override and zero-width characters are refused too: user ids end up in topic names, log lines
  // and on other users' screens.
  if (!isValidUserId(sub)) {
    throw new InvalidTokenError(
      'claim "sub" must be a string of 1..128 characters without control, bidi-override or zero-width characters',
    );
  }
  if (typeof exp !== 'number' || !Number.isInteger(exp) || exp < 0 || exp >= MAX_EXP) {
    throw new InvalidTokenError('claim "exp" must be an integer before the year 3000');
  }
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME_LENGTH))
    throw new InvalidTokenError(
      `claim "name" must be a string of at most ${MAX_NAME_LENGTH} characters`,
    );
  for (const [claim, value] of Object.entries({ roles, rooms, publish, subscribe })) {
    if (value !== undefined && !isStringArray(value)) {
      throw new InvalidTokenError(`claim "${claim}" must be an array of strings`);
    }
  }
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
