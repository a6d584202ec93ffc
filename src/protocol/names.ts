import { Matches } from 'class-validator';

/** Names of rooms and channels. */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const IsName = (): PropertyDecorator =>
  Matches(NAME_PATTERN, { message: '$property must match ^[A-Za-z0-9_.:-]{1,128}$' });

/** The room of a direct conversation: `dm:<a>:<b>` with the two user ids sorted. */
export function dmRoom(a: string, b: string): string {
  return a < b ? `dm:${a}:${b}` : `dm:${b}:${a}`;
}

/** The other participant when `userId` is one of the two users of a `dm:` room, else undefined. */
export function dmPeer(room: string, userId: string): string | undefined {
  if (!room.startsWith('dm:')) return undefined;
  const rest = room.slice(3);
  const candidates = [];
  if (rest.startsWith(`${userId}:`)) candidates.push(rest.slice(userId.length + 1));
  if (rest.endsWith(`:${userId}`)) candidates.push(rest.slice(0, rest.length - userId.length - 1));
  return candidates.find((peer) => dmRoom(userId, peer) === room);
}
