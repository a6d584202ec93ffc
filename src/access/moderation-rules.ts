import type { ModerationAction, Restriction, RoomRole } from '../store/moderation-store';

/** What a moderation check is about; a team's AccessPolicy gets it in `canModerate`. */
export interface ModerationCheck {
  /** A moderation action, or a write to the room (`send`, `edit`, `react`) by a user who is not muted. */
  action: ModerationAction | 'send' | 'edit' | 'react';
  room: string;
  /** The acting user's role in the room (`owner` for a token with `admin`). */
  role: RoomRole;
  /** The user acted on (moderation actions other than `settings`). */
  targetUserId?: string;
  /** Their role in the room; `owner` when they hold a connection whose token has `admin`. */
  targetRole?: RoomRole;
  /** `role` actions: the role to give. */
  newRole?: RoomRole;
  /** Hubbub's own rules' answer (the table in docs/authorization.md); the default policy returns it as it is. */
  allowed: boolean;
  /** Why Hubbub's rules refuse (`allowed: false`). */
  reason?: RefusalReason;
}

/**
 * Why a moderation request is refused (`forbidden` with `details.reason`): `role` (the actor's role does not
 * allow the action), `outranked` (the target's role is not below the actor's), `admin` (the target is an admin),
 * `policy` (the AccessPolicy refused what Hubbub's rules allow).
 */
export type RefusalReason = 'role' | 'outranked' | 'admin' | 'policy';

const RANK: Record<RoomRole, number> = { member: 0, moderator: 1, owner: 2 };

/**
 * Hubbub's rules of who may do what, by role (`admin` acts as an owner and outranks owners):
 * - `settings`: owners.
 * - `role`: owners set any role of anyone (themselves included); moderators only `member` ↔ `moderator` of
 *   others who are members or moderators.
 * - `kick`, `ban`, `unban`, `mute`, `unmute`, `delete`: moderators over members, owners over members and
 *   moderators, admins over everyone but admins; nobody over themselves. Nobody bans or mutes an admin.
 */
export function moderationDecision(
  check: Omit<ModerationCheck, 'allowed' | 'reason'>,
  who: { actorIsAdmin: boolean; targetIsAdmin: boolean; self: boolean },
): { allowed: boolean; reason?: RefusalReason } {
  const { action, role } = check;
  if (action === 'send' || action === 'edit' || action === 'react') return { allowed: true };
  if (action === 'settings')
    return role === 'owner' ? { allowed: true } : { allowed: false, reason: 'role' };
  const target = check.targetRole ?? 'member';
  const { actorIsAdmin, targetIsAdmin, self } = who;
  if (action === 'role') {
    if (role === 'owner') return { allowed: true };
    if (role !== 'moderator' || self) return { allowed: false, reason: 'role' };
    if (target === 'owner' || check.newRole === 'owner')
      return { allowed: false, reason: 'outranked' };
    return { allowed: true };
  }
  if (targetIsAdmin && action !== 'unban' && action !== 'unmute')
    return { allowed: false, reason: 'admin' };
  if (role === 'member' || self) return { allowed: false, reason: 'role' };
  if (actorIsAdmin) return { allowed: true };
  return RANK[role] > RANK[target] ? { allowed: true } : { allowed: false, reason: 'outranked' };
}

/** The restriction, when it is still in force at `now`. */
export function inForce(r: Restriction | undefined, now = Date.now()): Restriction | undefined {
  return r && (r.until === undefined || r.until > now) ? r : undefined;
}

/** `details` of a refusal for a ban or a mute. */
export function restrictionDetails(
  reason: 'banned' | 'muted',
  r: Restriction,
): { reason: 'banned' | 'muted'; until?: number } {
  return r.until === undefined ? { reason } : { reason, until: r.until };
}
