import { Injectable } from '@nestjs/common';
import { isAdmin, type Principal } from '../auth/principal';
import { HubbubError } from '../protocol/errors';
import { SlowModeGate } from '../quota/slow-mode-gate';
import { roomClaimDecision } from '../rooms/room-access';
import type { RoomRole } from '../store/moderation-store';
import { AccessPolicy } from './access-policy';
import { excludedByUserLimit } from './claim-rules';
import {
  inForce,
  type ModerationCheck,
  moderationDecision,
  restrictionDetails,
} from './moderation-rules';
import { RoomRules } from './room-rules';

/** A moderation request as the caller knows it; AccessCheck adds the roles and Hubbub's answer. */
export type ModerationRequest = Pick<ModerationCheck, 'action' | 'room' | 'targetUserId' | 'newRole'>;

/**
 * The one authorization path of every room and channel operation a client asks for: `chat.join`, `chat.history`
 * and `presence.list` (the join right), `channel.subscribe` (the subscribe right, unless a subscription token
 * grants it) and `channel.publish`. The access policy (the claims, the access proxy or a team's own) decides, after
 * the two rules no policy can lift: a `dm:` room belongs to its two users, a user-limited channel is read by its
 * users only.
 * Refusals are `forbidden`.
 */
@Injectable()
export class AccessCheck {
  constructor(private readonly policy: AccessPolicy) {}

  async assertRoom(principal: Principal, room: string): Promise<void> {
    if (roomClaimDecision(principal, room) === 'refused' || !(await this.mayJoin(principal, room)))
      throw new HubbubError('forbidden', `No access to room "${room}"`);
  }

  /** The user limit only: what a subscription token may grant. */
  assertNotExcluded(principal: Principal, channel: string): void {
    if (excludedByUserLimit(principal.userId, channel))
      throw new HubbubError('forbidden', `Channel "${channel}" is limited to other users`);
  }

  async assertSubscribe(principal: Principal, channel: string): Promise<void> {
    this.assertNotExcluded(principal, channel);
    const answer = this.policy.canSubscribe(principal, channel);
    if (!(typeof answer === 'boolean' ? answer : await answer))
      throw new HubbubError('forbidden', `No subscribe right on channel "${channel}"`);
  }

  /** A user limit restricts who reads a channel, not who publishes to it (an admin may write to a user's). */
  async assertPublish(principal: Principal, channel: string, data: unknown): Promise<void> {
    const answer = this.policy.canPublish(principal, channel, data);
    if (!(typeof answer === 'boolean' ? answer : await answer))
      throw new HubbubError('forbidden', `No publish right on channel "${channel}"`);
  }

  private async assertPolicy(principal: Principal, check: ModerationCheck): Promise<void> {
    // A team's policy written against the older interface (without canModerate) keeps Hubbub's answer.
    const answer = this.policy.canModerate?.(principal, check) ?? check.allowed;
    if (!(typeof answer === 'boolean' ? answer : await answer))
      throw new HubbubError('forbidden', `Not allowed to ${check.action} in room "${check.room}"`, {
        reason: 'policy',
      });
  }

  private async mayJoin(principal: Principal, room: string): Promise<boolean> {
    const answer = this.policy.canJoin(principal, room);
    return typeof answer === 'boolean' ? answer : await answer;
  }
}
