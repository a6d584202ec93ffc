import type { Principal } from '../auth/principal';
import type { ModerationCheck } from './moderation-rules';

export type { ModerationCheck };

/** What the access policy is asked about. */
export type AccessAction = 'join' | 'subscribe' | 'publish';

/**
 * Who may join a room, subscribe to a channel, publish to a channel. Consulted for every join, subscribe and
 * publish (chat history reads need the join right too). Answers may be async. The default
 * ({@link ClaimAccessPolicy}) applies the token's claims; with ACCESS_PROXY_URL the {@link ProxyAccessPolicy}
 * asks the backend about what the claims do not grant. Teams replace it through DI:
 * `{ provide: AccessPolicy, useClass: MyPolicy }` in `HubbubExtensions.providers`.
 *
 * Two rules hold whatever the policy says: a `dm:` room belongs to its two users, and a user-limited channel
 * (`name#id,id`) to the users it names. A subscription token (`channel.subscribe {token}`) grants one channel
 * without asking the policy.
 *
 * Room moderation (docs/authorization.md): bans and mutes are rules no policy lifts (a banned user is refused the
 * join right before the policy is asked, a muted one every write). Every moderation action (`room.role`,
 * `room.kick`, `room.ban`, …, deleting another user's message) and every write to a room (`send`, `edit`,
 * `react`) of a user who is not muted is then put to `canModerate`, with the actor's role and Hubbub's own answer
 * (`check.allowed`): the default returns that answer; a team's policy may refuse more, or allow more (e.g. a
 * claim of its own that makes a user a moderator everywhere).
 */
export abstract class AccessPolicy {
  abstract canJoin(principal: Principal, room: string): boolean | Promise<boolean>;
  abstract canSubscribe(principal: Principal, channel: string): boolean | Promise<boolean>;
  abstract canPublish(
    principal: Principal,
    channel: string,
    data: unknown,
  ): boolean | Promise<boolean>;
  /** See the class comment. The default keeps Hubbub's answer. */
  canModerate(principal: Principal, check: ModerationCheck): boolean | Promise<boolean> {
    void principal;
    return check.allowed;
  }
}
