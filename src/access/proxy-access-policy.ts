import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { AccessPolicy, type AccessAction } from './access-policy';
import {
  publishClaimDecision,
  roomClaimDecision,
  subscribeClaimDecision,
  type ClaimDecision,
} from './claim-rules';
import { RequestSigner } from './sign';

/** The body POSTed to ACCESS_PROXY_URL. */
export interface AccessProxyRequest {
  action: AccessAction;
  userId: string;
  room?: string;
  channel?: string;
  data?: unknown;
}

/**
 * The policy when ACCESS_PROXY_URL is set: what the claims grant is granted at once; what they leave ungranted is
 * POSTed to the backend (signed like webhooks when WEBHOOK_SECRET is set), which grants it with a 200 answer
 * `{"allow": true}` within ACCESS_PROXY_TIMEOUT_MS. Anything else (another answer, another status, a timeout, a
 * network error) refuses: fail closed. The request is an ordinary async fetch: the event loop keeps serving
 * every other connection while it waits.
 */
@Injectable()
export class ProxyAccessPolicy extends AccessPolicy {
  private readonly logger = new Logger(ProxyAccessPolicy.name);
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly signer?: RequestSigner;

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    super();
    if (!config.accessProxyUrl) throw new Error('ProxyAccessPolicy needs ACCESS_PROXY_URL');
    this.url = config.accessProxyUrl;
    this.timeoutMs = config.accessProxyTimeoutMs;
    this.signer = config.webhookSecret ? new RequestSigner(config.webhookSecret) : undefined;
  }

  canJoin(principal: Principal, room: string): boolean | Promise<boolean> {
    return this.decide(roomClaimDecision(principal, room), {
      action: 'join',
      userId: principal.userId,
      room,
    });
  }

  canSubscribe(principal: Principal, channel: string): boolean | Promise<boolean> {
    return this.decide(subscribeClaimDecision(principal, channel), {
      action: 'subscribe',
      userId: principal.userId,
      channel,
    });
  }

  canPublish(principal: Principal, channel: string, data: unknown): boolean | Promise<boolean> {
    return this.decide(publishClaimDecision(principal, channel), {
      action: 'publish',
      userId: principal.userId,
      channel,
      data,
    });
  }

  private decide(claims: ClaimDecision, request: AccessProxyRequest): boolean | Promise<boolean> {
    if (claims === 'granted') return true;
    if (claims === 'refused') return false;
    return this.ask(request);
  }

  /** Never rejects: every failure is a refusal. */
  async ask(request: AccessProxyRequest): Promise<boolean> {
    const body = JSON.stringify(request);
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.signer?.headers(body) },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        this.logger.warn(`access proxy answered ${response.status} to ${request.action}: refused`);
        return false;
      }
      const answer: unknown = await response.json();
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
