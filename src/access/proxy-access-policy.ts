import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Agent, request as httpRequest } from 'undici';
import type { Principal } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { HubbubError } from '../protocol/errors';
import { AccessPolicy, type AccessAction } from './access-policy';
import {
  publishClaimDecision,
  roomClaimDecision,
  subscribeClaimDecision,
  type ClaimDecision,
} from './claim-rules';
import { RequestSigner } from './sign';

/** The body POSTed to ACCESS_PROXY_URL. A publish's `data` is never sent. */
export interface AccessProxyRequest {
  action: AccessAction;
  userId: string;
  room?: string;
  channel?: string;
}

/** Checks one connection may have in flight (ACCESS_PROXY_MAX_PENDING bounds the instance). */
export const MAX_PENDING_PER_CONNECTION = 4;

/**
 * The policy when ACCESS_PROXY_URL is set: what the claims grant is granted at once; what they leave ungranted is
 * POSTed to the backend (signed like webhooks when WEBHOOK_SECRET is set), which grants it with a 200 answer
 * `{"allow": true}` within ACCESS_PROXY_TIMEOUT_MS. Anything else (another answer, another status, a timeout, a
 * network error) refuses: fail closed. The request is asynchronous: the event loop keeps serving every other
 * connection while it waits.
 *
 * Bounds: at most ACCESS_PROXY_MAX_PENDING checks in flight on this instance and MAX_PENDING_PER_CONNECTION per
 * connection (a connection's principal: one per handshake or `auth.refresh`); past either, the request is
 * answered `overloaded` with `details.retryAfterMs`, without asking. The checks share a pool of
 * ceil(ACCESS_PROXY_MAX_PENDING / 4) keep-alive connections to the backend (undici's Agent); the others wait
 * for one, inside their timeout.
 */
@Injectable()
export class ProxyAccessPolicy extends AccessPolicy implements OnModuleDestroy {
  private readonly logger = new Logger(ProxyAccessPolicy.name);
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly signer?: RequestSigner;
  private readonly maxPending: number;
  private readonly agent: Agent;
  /** Checks in flight on this instance; and per principal (a connection's, see the class comment). */
  pending = 0;
  private readonly pendingOf = new WeakMap<Principal, number>();

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    super();
    if (!config.accessProxyUrl) throw new Error('ProxyAccessPolicy needs ACCESS_PROXY_URL');
    this.url = config.accessProxyUrl;
    this.timeoutMs = config.accessProxyTimeoutMs;
    this.signer = config.webhookSecret ? new RequestSigner(config.webhookSecret) : undefined;
    this.maxPending = config.accessProxyMaxPending;
    this.agent = new Agent({ connections: Math.ceil(this.maxPending / 4) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  canJoin(principal: Principal, room: string): boolean | Promise<boolean> {
    return this.decide(principal, roomClaimDecision(principal, room), {
      action: 'join',
      userId: principal.userId,
      room,
    });
  }

  canSubscribe(principal: Principal, channel: string): boolean | Promise<boolean> {
    return this.decide(principal, subscribeClaimDecision(principal, channel), {
      action: 'subscribe',
      userId: principal.userId,
      channel,
    });
  }

  canPublish(principal: Principal, channel: string, data: unknown): boolean | Promise<boolean> {
    void data; // never forwarded: the backend decides on who and where, not on what
    return this.decide(principal, publishClaimDecision(principal, channel), {
      action: 'publish',
      userId: principal.userId,
      channel,
    });
  }

  private decide(
    principal: Principal,
    claims: ClaimDecision,
    request: AccessProxyRequest,
  ): boolean | Promise<boolean> {
    if (claims === 'granted') return true;
    if (claims === 'refused') return false;
    const mine = this.pendingOf.get(principal) ?? 0;
    if (mine >= MAX_PENDING_PER_CONNECTION || this.pending >= this.maxPending) {
      throw new HubbubError('overloaded', 'Too many access checks in flight', {
        retryAfterMs: Math.min(this.timeoutMs, 1000),
      });
    }
    this.pending++;
    this.pendingOf.set(principal, mine + 1);
    return this.ask(request).finally(() => {
      this.pending--;
      const left = (this.pendingOf.get(principal) ?? 1) - 1;
      if (left > 0) this.pendingOf.set(principal, left);
      else this.pendingOf.delete(principal);
    });
  }

  /** Never rejects: every failure is a refusal. */
  async ask(request: AccessProxyRequest): Promise<boolean> {
    const body = JSON.stringify(request);
    try {
      // No redirect is followed (undici's request does not): a 3xx is another status, refused.
      const response = await httpRequest(this.url, {
        dispatcher: this.agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.signer?.headers(body) },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        this.logger.warn(
          `access proxy answered ${response.statusCode} to ${request.action}: refused`,
        );
        return false;
      }
      const answer: unknown = await response.body.json();
      return (
        typeof answer === 'object' &&
        answer !== null &&
        (answer as { allow?: unknown }).allow === true
      );
    } catch (err) {
      const reason =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : err instanceof Error
            ? err.message
            : String(err);
      this.logger.warn(`access proxy failed for ${request.action}: ${reason}: refused`);
      return false;
    }
  }
}
