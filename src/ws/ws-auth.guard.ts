import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HubbubError } from '../protocol/errors';
import { connectionOf } from './connection';

/**
 * Re-checks, on every message, what the handshake established: the socket belongs to a registered,
 * authenticated connection whose token has not expired in the meantime.
 */
@Injectable()
export class WsAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const conn = connectionOf(context.switchToWs().getClient());
    if (!conn || conn.closed) throw new HubbubError('forbidden', 'Not authenticated');
    if (conn.principal.expiresAt <= Date.now()) throw new HubbubError('token_expired');
    return true;
  }
}
