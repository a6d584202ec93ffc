import { anyGlobMatches } from '../auth/glob';
import type { Principal } from '../auth/principal';
import { dmPeer } from '../protocol/names';

/**
 * Who may join or read a room: `private:` rooms need a matching `rooms` claim glob, `dm:` rooms belong to their
 * two users only, every other room is open to any authenticated user.
 */
export function canAccessRoom(principal: Principal, room: string): boolean {
  if (room.startsWith('private:')) return anyGlobMatches(principal.rooms, room);
  if (room.startsWith('dm:')) return dmPeer(room, principal.userId) !== undefined;
  return true;
}
