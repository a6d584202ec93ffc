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
export type ModerationRequest = Pick<
  ModerationCheck,
  'action' | 'room' | 'targetUserId' | 'newRole'
>;

/**
 * The one authorization path of every room and channel operation a client asks for: `chat.join`, `chat.history`
 * and `presence.list` (the join right), `channel.subscribe` (the subscribe right, unless a subscription token
 * grants it) and `channel.publish`. The access policy (the claims, the access proxy or a team's own) decides, after
 * the two rules no policy can lift: a `dm:` room belongs to its two users, a user-limited channel is read by its
 * users only.
 * Room moderation sits here too: a ban refuses the join right (after the policy: the ban is read last, so no
 * change heard while the policy decided is missed), a mute every write, slow mode a member's sends; moderation
 * actions are decided by the roles, then put to the policy's `canModerate`.
 * Refusals are `forbidden` (bans and mutes with `details: {reason, until?}`; slow mode is `rate_limited`).
 */
@Injectable()
export class AccessCheck {
  constructor(
    private readonly policy: AccessPolicy,
    private readonly rules: RoomRules,
    private readonly slowMode: SlowModeGate,
  ) {}

  async assertRoom(principal: Principal, room: string): Promise<void> {
    if (roomClaimDecision(principal, room) === 'refused' || !(await this.mayJoin(principal, room)))
      throw new HubbubError('forbidden', `No access to room "${room}"`);
    if (isAdmin(principal)) return; // a ban never refuses a token with `admin`
    const ban = inForce((await this.rules.standing(room, principal.userId)).ban);
    if (ban)
      throw new HubbubError(
        'forbidden',
        `Banned from room "${room}"`,
        restrictionDetails('banned', ban),
      );
  }

  /** The user's role in the room; `owner` for a token with `admin`. */
  async roleOf(principal: Principal, room: string): Promise<RoomRole> {
    return isAdmin(principal) ? 'owner' : (await this.rules.standing(room, principal.userId)).role;
  }

  /**
   * A write to a room (`send`, `edit`, `react`): refused while the user is muted, then put to the policy. A
   * `send` of a member in a slow-mode room takes the user's slot (`rate_limited` with `retryAfterMs` when it is
   * not free yet); the returned function hands it back, for a send that then fails.
   */
  async assertWrite(
    principal: Principal,
    room: string,
    action: 'send' | 'edit' | 'react',
  ): Promise<() => Promise<void>> {
    const admin = isAdmin(principal);
    const standing = await this.rules.standing(room, principal.userId);
    const mute = admin ? undefined : inForce(standing.mute);
    if (mute)
      throw new HubbubError(
        'forbidden',
        `Muted in room "${room}"`,
        restrictionDetails('muted', mute),
      );
    const role = admin ? 'owner' : standing.role;
    await this.assertPolicy(principal, { action, room, role, allowed: true });
    const nothing = (): Promise<void> => Promise.resolve();
    if (action !== 'send' || role !== 'member') return nothing;
    const { slowModeMs } = await this.rules.settings(room);
    if (!slowModeMs) return nothing;
    const retryAfterMs = await this.slowMode.take(room, principal.userId, slowModeMs);
    if (retryAfterMs > 0)
      throw new HubbubError('rate_limited', `Slow mode in room "${room}"`, { retryAfterMs });
    return () => this.slowMode.release(room, principal.userId);
  }

  /**
   * A moderation action of `principal` (absent: the server API, which may do anything): Hubbub's role rules,
   * then the policy's `canModerate`. `targetIsAdmin`: the target holds a connection whose token has `admin`.
   */
  async assertModerate(
    principal: Principal | undefined,
    request: ModerationRequest,
    targetIsAdmin = false,
  ): Promise<void> {
    if (!principal) return;
    const { room, targetUserId } = request;
    const [role, targetRole] = await Promise.all([
      this.roleOf(principal, room),
      targetUserId === undefined
        ? undefined
        : targetIsAdmin
          ? ('owner' as const)
          : this.rules.standing(room, targetUserId).then((s) => s.role),
    ]);
    const check: ModerationCheck = { ...request, role, targetRole, allowed: false };
    Object.assign(
      check,
      moderationDecision(check, {
        actorIsAdmin: isAdmin(principal),
        targetIsAdmin,
        self: targetUserId === principal.userId,
      }),
    );
    // Nobody acts on an admin: no policy lifts it. Any other answer of the rules is the policy's to keep or change.
    if (check.reason === 'admin' || !(await this.policyAllows(principal, check)))
      throw new HubbubError('forbidden', `Not allowed to ${request.action} in room "${room}"`, {
        reason: check.allowed ? 'policy' : check.reason,
      });
  }

  /**
   * May the user delete another user's message in the room (`chat.delete`)? Moderators, owners and `admin`,
   * then the policy's `canModerate` with action `delete`. False rather than a throw: the caller decides.
   */
  async mayDeleteOthers(principal: Principal, room: string, authorId: string): Promise<boolean> {
    try {
      await this.assertModerate(principal, { action: 'delete', room, targetUserId: authorId });
      return true;
    } catch (err) {
      if (err instanceof HubbubError && err.code === 'forbidden') return false;
      throw err;
    }
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
    if (!(await this.policyAllows(principal, check)))
      throw new HubbubError('forbidden', `Not allowed to ${check.action} in room "${check.room}"`, {
        reason: 'policy',
      });
  }

  private async policyAllows(principal: Principal, check: ModerationCheck): Promise<boolean> {
    // A team's policy written against the older interface (without canModerate) keeps Hubbub's answer.
    const answer = this.policy.canModerate?.(principal, check) ?? check.allowed;
    return typeof answer === 'boolean' ? answer : await answer;
  }

  /**
   * `chat.delete` (the server API's delete has no principal: it may). The author may delete their message;
   * anyone else needs {@link mayDeleteOthers}: a moderator over members, an owner over moderators too, `admin`,
   * as the policy's `canModerate` has it (`forbidden` with `details.reason` otherwise).
   */
  async assertMayDelete(principal: Principal, room: string, authorId: string): Promise<void> {
    if (principal.userId === authorId) return;
    await this.assertModerate(principal, { action: 'delete', room, targetUserId: authorId });
  }

  /** Whether the user moderates the room: a moderator or owner there, or `admin`. */
  async mayModerate(principal: Principal, room: string): Promise<boolean> {
    return (await this.roleOf(principal, room)) !== 'member';
  }

  private async mayJoin(principal: Principal, room: string): Promise<boolean> {
    const answer = this.policy.canJoin(principal, room);
    return typeof answer === 'boolean' ? answer : await answer;
  }
}
