import { anyGlobMatches } from '../auth/glob';
import type { Principal } from '../auth/principal';
import { dmPeer } from '../protocol/names';

/**
 * What the claims say about joining or reading a room: `private:` rooms need a matching `rooms` claim glob
 * (else `ungranted`: the access policy may still grant it), `dm:` rooms belong to their two users only (else
 * `refused`, whatever the policy), every other room is open to any authenticated user.
 */
export function roomClaimDecision(
  principal: Principal,
  room: string,
): 'granted' | 'ungranted' | 'refused' {
  if (room.startsWith('private:'))
    return anyGlobMatches(principal.rooms, room) ? 'granted' : 'ungranted';
  if (room.startsWith('dm:'))
    return dmPeer(room, principal.userId) !== undefined ? 'granted' : 'refused';
  return 'granted';
}
