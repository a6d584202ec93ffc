import { Injectable, Logger } from '@nestjs/common';
import { AccessCheck, type ModerationRequest } from '../access/access-check';
import { RoomRules } from '../access/room-rules';
import { isAdmin, type Principal } from '../auth/principal';
import { EventBus } from '../events/event-bus';
import type { HubbubEventMap } from '../events/event-map';
import { EventPriority, OnEvent } from '../events/on-event';
import { PushService } from '../fanout/push.service';
import { MessageStore } from '../store/message-store';
import {
  type AuditEntry,
  type ModerationRecord,
  ModerationStore,
  type RoomRole,
  type RoomSettings,
} from '../store/moderation-store';
import { ClientRegistry } from '../ws/client-registry.service';

/** `room.info`'s reply. */
export interface RoomInfo {
  room: string;
  owners: string[];
  moderators: string[];
  settings: RoomSettings;
  firstSeq: number;
}

/** A settings change: a number sets, `null` clears, absent keeps. */
export interface SettingsPatch {
  retentionDays?: number | null;
  slowModeMs?: number | null;
}

/** Who acts: a connection's principal, or `undefined` for the server API (`by: "server"`, every right). */
export type Actor = Principal | undefined;

const byOf = (actor: Actor): string => actor?.userId ?? 'server';

/** Audit pages are at most this long. */
export const MAX_AUDIT_PAGE = 100;

/**
 * Room moderation: roles, kick, ban, mute, settings, and the audit log. Each action is decided in the one
 * authorization path (AccessCheck.assertModerate: the roles, then the AccessPolicy), recorded with its audit entry
 * in one transaction, then announced: the cluster command `command.room.moderated` (every instance drops its
 * cached rules and, for kick and ban, takes the user's connections out of the room: ModerationEnforcer), the push
 * `room.role` for roles, and the event `room.moderated` (the webhook). A refused action records nothing.
 */
@Injectable()
export class ModerationService {
  private readonly logger = new Logger(ModerationService.name);

  constructor(
    private readonly store: ModerationStore,
    private readonly messages: MessageStore,
    private readonly access: AccessCheck,
    private readonly rules: RoomRules,
    private readonly push: PushService,
    private readonly bus: EventBus,
    private readonly registry: ClientRegistry,
  ) {}

  /** `room.info`: needs the join right. */
  async info(principal: Principal, room: string): Promise<RoomInfo> {
    await this.access.assertRoom(principal, room);
    const [staff, settings, firstSeq] = await Promise.all([
      this.store.staff(room),
      this.rules.settings(room),
      this.messages.firstSeq(room),
    ]);
    return { room, ...staff, settings, firstSeq };
  }

  async setRole(actor: Actor, room: string, userId: string, role: RoomRole): Promise<void> {
    await this.decide(actor, { action: 'role', room, targetUserId: userId, newRole: role });
    await this.record(byOf(actor), { room, action: 'role', userId, role });
    await this.push.toRoom(room, 'room.role', { room, userId, role });
  }

  async kick(actor: Actor, room: string, userId: string): Promise<void> {
    await this.decide(actor, { action: 'kick', room, targetUserId: userId });
    await this.record(byOf(actor), { room, action: 'kick', userId });
  }

  async ban(
    actor: Actor,
    room: string,
    userId: string,
    until?: number,
    reason?: string,
  ): Promise<void> {
    await this.decide(actor, { action: 'ban', room, targetUserId: userId });
    await this.record(byOf(actor), { room, action: 'ban', userId, until, reason });
  }

  async unban(actor: Actor, room: string, userId: string): Promise<void> {
    await this.decide(actor, { action: 'unban', room, targetUserId: userId });
    await this.record(byOf(actor), { room, action: 'unban', userId });
  }

  async mute(actor: Actor, room: string, userId: string, until?: number): Promise<void> {
    await this.decide(actor, { action: 'mute', room, targetUserId: userId });
    await this.record(byOf(actor), { room, action: 'mute', userId, until });
  }

  async unmute(actor: Actor, room: string, userId: string): Promise<void> {
    await this.decide(actor, { action: 'unmute', room, targetUserId: userId });
    await this.record(byOf(actor), { room, action: 'unmute', userId });
  }

  /** Owners: changes the given settings, keeps the others; returns the room's settings after the change. */
  async settings(actor: Actor, room: string, patch: SettingsPatch): Promise<RoomSettings> {
    await this.decide(actor, { action: 'settings', room });
    const settings = { ...(await this.store.settings(room)) };
    for (const key of ['retentionDays', 'slowModeMs'] as const) {
      const value = patch[key];
      if (value === undefined) continue;
      if (value === null || (key === 'slowModeMs' && value === 0)) delete settings[key];
      else settings[key] = value;
    }
    await this.record(byOf(actor), {
      room,
      action: 'settings',
      userId: actor?.userId ?? 'server',
      settings,
    });
    return settings;
  }

  /**
   * A message deleted by someone other than its author (a moderator, an owner, an admin, or the server API; the
   * right was decided by AccessCheck.assertMayDelete) is a moderation action: audited, and `room.moderated`.
   * `userId` is the author; the entry's `reason` names the seq.
   */
  @OnEvent({ name: 'chat.deleted', priority: EventPriority.Reaction })
  async deleted({ room, seq, userId, by }: HubbubEventMap['chat.deleted']): Promise<void> {
    if (by === userId) return;
    await this.record(by, { room, action: 'delete', userId, reason: `seq ${seq}` });
  }

  /** The room's audit log, newest first, `before` a ts; `next` when there is more. */
  async audit(
    room: string,
    before: number | undefined,
    limit = 50,
  ): Promise<{ entries: AuditEntry[]; next?: number }> {
    const page = Math.min(Math.max(1, limit), MAX_AUDIT_PAGE);
    const entries = await this.store.audit(room, before, page + 1);
    if (entries.length <= page) return { entries };
    entries.length = page;
    return { entries, next: entries[page - 1].ts };
  }

  private decide(actor: Actor, request: ModerationRequest): Promise<void> {
    const target = request.targetUserId;
    // Lifting a ban or a mute is never refused for the target's admin token (it was never held by them).
    const lifting = request.action === 'unban' || request.action === 'unmute';
    const targetIsAdmin =
      !lifting &&
      target !== undefined &&
      [...this.registry.forUser(target)].some((c) => isAdmin(c.principal));
    return this.access.assertModerate(actor, request, targetIsAdmin);
  }

  private async record(by: string, change: Omit<ModerationRecord, 'by'>): Promise<AuditEntry> {
    const entry = await this.store.record({ ...change, by });
    const { room, userId, action } = change;
    this.rules.changed({ room, userId, action }); // here at once; the others when the command arrives
    try {
      await this.push.command('command.room.moderated', { room, userId, action });
    } catch (err) {
      // Recorded: the other instances read it from the store when their cache entry ages out.
      this.logger.warn(`command.room.moderated not sent for ${room}: ${String(err)}`);
    }
    const event = { room, action, userId, by, ts: entry.ts };
    await this.bus.emit(
      'room.moderated',
      change.until === undefined ? event : { ...event, until: change.until },
    );
    return entry;
  }
}
