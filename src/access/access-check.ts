import { Injectable } from '@nestjs/common';
import { isAdmin, type Principal } from '../auth/principal';
import { HubbubError } from '../protocol/errors';
import { roomClaimDecision } from '../rooms/room-access';
import { AccessPolicy } from './access-policy';
import { excludedByUserLimit } from './claim-rules';

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

  /**
   * `chat.delete` (and the server API's delete has no principal: it may). The author may delete their message;
   * anyone else needs {@link mayModerate}.
   */
  async assertMayDelete(principal: Principal, room: string, authorId: string): Promise<void> {
    if (principal.userId === authorId || (await this.mayModerate(principal, room))) return;
    throw new HubbubError('forbidden', 'Only the author or a moderator of the room may delete it');
  }

  /**
   * Whether the user moderates the room (deletes others' messages): `admin` everywhere. The one place room roles
   * (owner, moderator) plug in.
   */
  mayModerate(principal: Principal, _room: string): boolean | Promise<boolean> {
    return isAdmin(principal);
  }

  private async mayJoin(principal: Principal, room: string): Promise<boolean> {
    const answer = this.policy.canJoin(principal, room);
    return typeof answer === 'boolean' ? answer : await answer;
  }
}
