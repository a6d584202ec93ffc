/**
 * Durable room moderation: roles, bans, mutes, room settings and the audit log of every moderation action. Two
 * implementations, on the same database as the messages: SqliteModerationStore and PostgresModerationStore
 * (backends/backend.providers.ts picks the one that matches the MessageStore). The tables are created by the
 * message store's migrations (SQLite 7, PostgreSQL 8; see moderation-sql.ts), so this store is opened after it.
 *
 * Guarantees:
 * - `record` changes the row the action is about (role, ban, mute, settings) and appends its audit entry in ONE
 *   transaction: an action is either fully there, audit included, or not at all.
 * - Audit `ts` values are unique and increasing per room (an entry written in the same millisecond as the last
 *   one gets the next millisecond), so `audit(room, before)` pages by `ts` without skipping or repeating one.
 * - Reads return what the last committed `record` left, on every instance sharing the database.
 */

export const ROOM_ROLES = ['owner', 'moderator', 'member'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];

export const MODERATION_ACTIONS = [
  'role',
  'kick',
  'ban',
  'unban',
  'mute',
  'unmute',
  'delete',
  'settings',
] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** A room's own rules; absent: no rule of its own (RETENTION_DAYS applies, no slow mode). */
export interface RoomSettings {
  retentionDays?: number;
  slowModeMs?: number;
}

/** A ban or a mute as stored; `until` absent: for good. Expired ones may still be stored: compare with now. */
export interface Restriction {
  until?: number;
  reason?: string;
}

/** What the store holds about one user in one room. */
export interface StoredStanding {
  role: RoomRole;
  ban?: Restriction;
  mute?: Restriction;
}

/** One moderation action, as recorded. `by` is the acting user id, or `server` for the server API. */
export interface AuditEntry {
  ts: number;
  action: ModerationAction;
  userId: string;
  by: string;
  until?: number;
  reason?: string;
  /** `role` actions: the role given. */
  role?: RoomRole;
  /** `settings` actions: the room's settings after the change. */
  settings?: RoomSettings;
}

/** What `record` is asked to do: the audit entry (without its ts) says everything. */
export type ModerationRecord = Omit<AuditEntry, 'ts'> & { room: string };

/** A role of a user, for the export of a person. */
export interface UserRole {
  room: string;
  role: Exclude<RoomRole, 'member'>;
}

/** Lists are cut here: staff of one room, audit pages, role pages. */
export const MAX_STAFF = 1000;

export abstract class ModerationStore {
  abstract init(): Promise<void>;
  abstract close(): Promise<void>;
  /** The user's role (`member` when none is stored) and their ban and mute, if any. */
  abstract standing(room: string, userId: string): Promise<StoredStanding>;
  /** Owners and moderators of the room, sorted by user id, at most MAX_STAFF of each. */
  abstract staff(room: string): Promise<{ owners: string[]; moderators: string[] }>;
  abstract settings(room: string): Promise<RoomSettings>;
  /**
   * Applies the action (role: `member` removes the row; ban/mute: upsert; unban/unmute: delete; settings: the
   * given settings replace the room's; kick and delete change nothing) and appends its audit entry; returns it.
   */
  abstract record(change: ModerationRecord): Promise<AuditEntry>;
  /** Newest first: entries with `ts < before` (all when absent), at most `limit`. */
  abstract audit(room: string, before: number | undefined, limit: number): Promise<AuditEntry[]>;
  /** Rooms with their own `retentionDays`, by room name after `after`, at most `limit` (for the retention sweep). */
  abstract retentionRooms(
    after: string | undefined,
    limit: number,
  ): Promise<{ room: string; retentionDays: number }[]>;
  /** The user's roles (not `member`), by room after `afterRoom`, at most `limit` (for the export of a person). */
  abstract rolesOf(
    userId: string,
    afterRoom: string | undefined,
    limit: number,
  ): Promise<UserRole[]>;
  /** Removes every role of the user; idempotent. Returns how many rows went. */
  abstract eraseRoles(userId: string): Promise<number>;
}

/** Row of room_audit, both backends. */
export interface AuditRow {
  ts: number | string | bigint;
  action: string;
  user_id: string;
  by_user: string;
  until: number | string | bigint | null;
  reason: string | null;
  detail: string | null;
}

export function rowToAudit(r: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    ts: Number(r.ts),
    action: r.action as ModerationAction,
    userId: r.user_id,
    by: r.by_user,
  };
  if (r.until !== null) entry.until = Number(r.until);
  if (r.reason !== null) entry.reason = r.reason;
  if (r.detail !== null) Object.assign(entry, JSON.parse(r.detail) as object);
  return entry;
}

/** The `detail` column: the role given, or the settings after the change. */
export function auditDetail(change: ModerationRecord): string | null {
  if (change.action === 'role') return JSON.stringify({ role: change.role });
  if (change.action === 'settings') return JSON.stringify({ settings: change.settings ?? {} });
  return null;
}

export function settingsOf(r: {
  retention_days: number | string | null;
  slow_mode_ms: number | string | null;
}): RoomSettings {
  const s: RoomSettings = {};
  if (r.retention_days !== null) s.retentionDays = Number(r.retention_days);
  if (r.slow_mode_ms !== null) s.slowModeMs = Number(r.slow_mode_ms);
  return s;
}

export function restrictionOf(r: {
  until: number | string | bigint | null;
  reason?: string | null;
}): Restriction {
  const out: Restriction = {};
  if (r.until !== null) out.until = Number(r.until);
  if (r.reason != null) out.reason = r.reason;
  return out;
}
