import { anyGlobMatches } from '../auth/glob';
import { isAdmin, type Principal } from '../auth/principal';
import { channelUsers } from '../protocol/names';
import { roomClaimDecision } from '../rooms/room-access';

/**
 * What the token's claims say about a request: `granted`; `refused` for good (a `dm:` room of others, a channel
 * limited to other users: no policy may grant it); `ungranted` when the claims do not grant it, which the
 * access proxy may still grant.
 */
export type ClaimDecision = 'granted' | 'ungranted' | 'refused';

export { roomClaimDecision };

/** True when the channel is limited to users (`name#a,b`) and this user is not one of them. */
export function excludedByUserLimit(userId: string, channel: string): boolean {
  const users = channelUsers(channel);
  return users !== undefined && !users.includes(userId);
}

/**
 * Subscribe: a channel limited to other users is refused; `private:` channels need a `subscribe` claim glob or
 * `admin`; every other channel is open to any authenticated user.
 */
export function subscribeClaimDecision(principal: Principal, channel: string): ClaimDecision {
  if (excludedByUserLimit(principal.userId, channel)) return 'refused';
  if (!channel.startsWith('private:')) return 'granted';
  return isAdmin(principal) || anyGlobMatches(principal.subscribe ?? [], channel)
    ? 'granted'
    : 'ungranted';
}

/** Publish: a `publish` claim glob or `admin`. */
export function publishClaimDecision(principal: Principal, channel: string): ClaimDecision {
  return isAdmin(principal) || anyGlobMatches(principal.publish, channel) ? 'granted' : 'ungranted';
}
