import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { AccessPolicy } from './access-policy';
import { publishClaimDecision, roomClaimDecision, subscribeClaimDecision } from './claim-rules';

/** The default policy: the token's claims alone decide (see claim-rules.ts). */
@Injectable()
export class ClaimAccessPolicy extends AccessPolicy {
  canJoin(principal: Principal, room: string): boolean {
    return roomClaimDecision(principal, room) === 'granted';
  }

  canSubscribe(principal: Principal, channel: string): boolean {
    return subscribeClaimDecision(principal, channel) === 'granted';
  }

  canPublish(principal: Principal, channel: string): boolean {
    return publishClaimDecision(principal, channel) === 'granted';
  }
}
