import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { HandshakeAuthenticator, HandshakeRejection, type Principal } from 'hubbub';

/**
 * The team's gateway (a trusted reverse proxy) has already authenticated the user and put them in headers.
 * Replaces Hubbub's JWT check at the handshake, inside Nest's DI.
 */
@Injectable()
export class HeaderAuthenticator extends HandshakeAuthenticator {
  authenticate(request: IncomingMessage): Promise<Principal> {
    const userId = request.headers['x-team-user'];
    if (typeof userId !== 'string' || !/^[a-z0-9-]{1,32}$/.test(userId)) {
      return Promise.reject(new HandshakeRejection(401, 'x-team-user header missing or invalid'));
    }
    const name = request.headers['x-team-name'];
    return Promise.resolve({
      userId,
      name: typeof name === 'string' ? name : undefined,
      roles: [],
      rooms: [],
      publish: [],
      expiresAt: Date.now() + 3600_000,
    } as Principal);
  }
}
