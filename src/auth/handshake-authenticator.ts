import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Principal } from './principal';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

/** A refused handshake: the HTTP status and a short reason, answered before any socket exists. */
export class HandshakeRejection extends Error {
  override name = 'HandshakeRejection';
  constructor(
    readonly status: 401 | 403 | 404 | 429 | 503,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Turns an upgrade request into a Principal, or throws a HandshakeRejection. This is the seam teams replace
 * (`{ provide: HandshakeAuthenticator, useClass: MyAuthenticator }`) to authenticate with sessions, mTLS or an
 * external identity service; it runs inside Nest's DI, so it can inject anything.
 */
export abstract class HandshakeAuthenticator {
  abstract authenticate(request: IncomingMessage): Promise<Principal>;
}

/** Bearer token from the Authorization header, or `access_token` in the query string (browsers cannot set headers). */
export function extractToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  return url.searchParams.get('access_token') ?? undefined;
}

@Injectable()
export class JwtHandshakeAuthenticator extends HandshakeAuthenticator {
  constructor(private readonly verifier: TokenVerifier) {
    super();
  }

  async authenticate(request: IncomingMessage): Promise<Principal> {
    const token = extractToken(request);
    if (!token) throw new HandshakeRejection(401, 'missing token');
    try {
      return await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new HandshakeRejection(401, err.message);
      throw err;
    }
  }
}
