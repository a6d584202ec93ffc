import type { Principal } from '../auth/principal';

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
 */
export abstract class AccessPolicy {
  abstract canJoin(principal: Principal, room: string): boolean | Promise<boolean>;
  abstract canSubscribe(principal: Principal, channel: string): boolean | Promise<boolean>;
  abstract canPublish(
    principal: Principal,
    channel: string,
    data: unknown,
  ): boolean | Promise<boolean>;
}
