import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { HandshakeAuthenticator, HandshakeRejection } from '../auth/handshake-authenticator';
import type { Principal } from '../auth/principal';
import { Broker } from '../broker/broker';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { DrainState } from './drain-state.service';
import { Overload } from './overload';
import { ConnectionQuota } from '../quota/connection-quota';

/**
 * Decides, from the HTTP upgrade request alone, whether a socket may exist: not draining or overloaded, Redis
 * reached once since the start (cluster mode; a later outage keeps serving), an allowed browser
 * origin, a valid token (through the replaceable HandshakeAuthenticator), and a free per-user connection slot.
 */
@Injectable()
export class HandshakeService {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly authenticator: HandshakeAuthenticator,
    private readonly quota: ConnectionQuota,
    private readonly drain: DrainState,
    private readonly overload: Overload,
    private readonly broker: Broker,
  ) {}

  /** Resolves with the principal holding an acquired quota slot, or throws a HandshakeRejection. */
  async admit(request: IncomingMessage): Promise<Principal> {
    const principal = await this.verify(request, request.headers.origin);
    if (!(await this.quota.acquire(principal.userId, this.config.maxConnectionsPerUser))) {
      throw new HandshakeRejection(429, 'too many connections for this user');
    }
    return principal;
  }

  /**
   * What a handshake with this request's token would get, without taking a slot: throws the same
   * HandshakeRejection. Backs `GET /ws` without an Upgrade (the client SDK's check after a refused handshake,
   * since browsers hide the status). `origin`: the page's, which a browser does not send on a same-origin GET.
   */
  async check(request: IncomingMessage, origin: string | undefined): Promise<void> {
    const principal = await this.verify(request, origin);
    const held = await this.quota.userConnections(principal.userId);
    if (held >= this.config.maxConnectionsPerUser) {
      throw new HandshakeRejection(429, 'too many connections for this user');
    }
  }

  /**
   * The origin and token checks alone (no drain, overload or quota check, no slot): for a request that reaches an
   * open connection rather than making one (`POST /stream/send`).
   */
  async identify(request: IncomingMessage): Promise<Principal> {
    this.checkOrigin(request.headers.origin);
    const principal = await this.authenticator.authenticate(request);
    if (principal.expiresAt <= Date.now()) throw new HandshakeRejection(401, 'token expired');
    return principal;
  }

  private checkOrigin(origin: string | undefined): void {
    // Non-browser clients send no Origin; browsers always do, and that is what cross-site hijacking needs.
    if (
      origin !== undefined &&
      this.config.allowedOrigins &&
      !this.config.allowedOrigins.has(origin)
    ) {
      throw new HandshakeRejection(403, 'origin not allowed');
    }
  }

  private async verify(request: IncomingMessage, origin: string | undefined): Promise<Principal> {
    if (this.drain.draining) throw new HandshakeRejection(503, 'server is shutting down');
    if (this.overload.active) throw new HandshakeRejection(503, 'server overloaded');
    // Cluster mode: until Redis has answered once since the start (a later outage keeps serving).
    if (!this.broker.hasBeenHealthy())
      throw new HandshakeRejection(503, 'Redis is not reachable yet');
    this.checkOrigin(origin);
    const principal = await this.authenticator.authenticate(request);
    if (principal.expiresAt <= Date.now()) throw new HandshakeRejection(401, 'token expired');
    return principal;
  }

  release(principal: Principal): Promise<void> {
    return this.quota.release(principal.userId);
  }
}
