import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { settle } from '../common/settle';
import { AUDIT_COLUMNS } from './moderation-sql';
import {
  type AuditEntry,
  type AuditRow,
  auditDetail,
  MAX_STAFF,
  type ModerationRecord,
  ModerationStore,
  restrictionOf,
  type RoomSettings,
  rowToAudit,
  settingsOf,
  type StoredStanding,
  type UserRole,
} from './moderation-store';
import { transaction } from './sqlite-migrations';

type Row = Record<string, SQLInputValue>;

/**
 * Moderation on the SQLite file of the message store, through a connection of its own (opened after the message
 * store ran the migrations). node:sqlite is synchronous: each `record` is one BEGIN IMMEDIATE transaction that
 * never yields, so it cannot interleave with the message store's group commits in this process; another process
 * waits up to busy_timeout. WAL with synchronous=FULL: a recorded action survives a crash.
 */
export class SqliteModerationStore extends ModerationStore {
  private db?: DatabaseSync;

  constructor(private readonly path: string) {
    super();
  }

  init(): Promise<void> {
    return settle(() => {
      if (this.db) return;
      const db = new DatabaseSync(this.path);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA busy_timeout = 5000');
      this.db = db;
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.db?.close();
      this.db = undefined;
    });
  }

  private get conn(): DatabaseSync {
    if (!this.db) throw new Error('SqliteModerationStore: not open');
    return this.db;
  }

  private all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.conn.prepare(sql).all(...params);
  }

  standing(room: string, userId: string): Promise<StoredStanding> {
    return settle(() => {
      const role = this.all(
        'SELECT role FROM room_roles WHERE room = ? AND user_id = ?',
        room,
        userId,
      )[0];
      const ban = this.all(
        'SELECT until, reason FROM room_bans WHERE room = ? AND user_id = ?',
        room,
        userId,
      )[0];
      const mute = this.all(
        'SELECT until FROM room_mutes WHERE room = ? AND user_id = ?',
        room,
        userId,
      )[0];
      const out: StoredStanding = { role: (role?.role as StoredStanding['role']) ?? 'member' };
      if (ban) out.ban = restrictionOf(ban as Parameters<typeof restrictionOf>[0]);
      if (mute) out.mute = restrictionOf(mute as Parameters<typeof restrictionOf>[0]);
      return out;
    });
  }

  staff(room: string): Promise<{ owners: string[]; moderators: string[] }> {
    return settle(() => {
      const of = (role: string): string[] =>
        this.all(
          'SELECT user_id FROM room_roles WHERE room = ? AND role = ? ORDER BY user_id LIMIT ?',
          room,
          role,
          MAX_STAFF,
        ).map((r) => r.user_id as string);
      return { owners: of('owner'), moderators: of('moderator') };
    });
  }

  settings(room: string): Promise<RoomSettings> {
    return settle(() => {
      const row = this.all(
        'SELECT retention_days, slow_mode_ms FROM room_settings WHERE room = ?',
        room,
      )[0];
      return row ? settingsOf(row as Parameters<typeof settingsOf>[0]) : {};
    });
  }

  record(change: ModerationRecord): Promise<AuditEntry> {
    return settle(() =>
      transaction(this.conn, () => {
        this.apply(change);
        const last = this.all(
          'SELECT max(ts) AS ts FROM room_audit WHERE room = ?',
          change.room,
        )[0];
        const ts = Math.max(Date.now(), Number(last?.ts ?? 0) + 1);
        this.conn
          .prepare(
            `INSERT INTO room_audit (room, ${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            change.room,
            ts,
            change.action,
            change.userId,
            change.by,
            change.until ?? null,
            change.reason ?? null,
            auditDetail(change),
          );
        const { room: _room, ...entry } = change;
        return { ...entry, ts };
      }),
    );
  }

  private apply(c: ModerationRecord): void {
    const run = (sql: string, ...params: SQLInputValue[]): void => {
      this.conn.prepare(sql).run(...params);
    };
    switch (c.action) {
      case 'role':
        if (c.role === 'member' || c.role === undefined)
          run('DELETE FROM room_roles WHERE room = ? AND user_id = ?', c.room, c.userId);
        else
          run(
            `INSERT INTO room_roles (room, user_id, role) VALUES (?, ?, ?)
             ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role`,
            c.room,
            c.userId,
            c.role,
          );
        return;
      case 'ban':
        run(
          `INSERT INTO room_bans (room, user_id, until, reason) VALUES (?, ?, ?, ?)
           ON CONFLICT (room, user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason`,
          c.room,
          c.userId,
          c.until ?? null,
          c.reason ?? null,
        );
        return;
      case 'unban':
        run('DELETE FROM room_bans WHERE room = ? AND user_id = ?', c.room, c.userId);
        return;
      case 'mute':
        run(
          `INSERT INTO room_mutes (room, user_id, until) VALUES (?, ?, ?)
           ON CONFLICT (room, user_id) DO UPDATE SET until = excluded.until`,
          c.room,
          c.userId,
          c.until ?? null,
        );
        return;
      case 'unmute':
        run('DELETE FROM room_mutes WHERE room = ? AND user_id = ?', c.room, c.userId);
        return;
      case 'settings': {
        const s = c.settings ?? {};
        if (s.retentionDays === undefined && s.slowModeMs === undefined)
          run('DELETE FROM room_settings WHERE room = ?', c.room);
        else
          run(
            `INSERT INTO room_settings (room, retention_days, slow_mode_ms) VALUES (?, ?, ?)
             ON CONFLICT (room) DO UPDATE SET retention_days = excluded.retention_days,
               slow_mode_ms = excluded.slow_mode_ms`,
            c.room,
            s.retentionDays ?? null,
            s.slowModeMs ?? null,
          );
        return;
      }
      case 'kick':
      case 'delete':
        return; // the audit entry only
    }
  }

  audit(room: string, before: number | undefined, limit: number): Promise<AuditEntry[]> {
    return settle(() =>
      this.all(
        `SELECT ${AUDIT_COLUMNS} FROM room_audit WHERE room = ? AND ts < ? ORDER BY ts DESC LIMIT ?`,
        room,
        before ?? Number.MAX_SAFE_INTEGER,
        limit,
      ).map((r) => rowToAudit(r as unknown as AuditRow)),
    );
  }

  retentionRooms(
    after: string | undefined,
    limit: number,
  ): Promise<{ room: string; retentionDays: number }[]> {
    return settle(() =>
      this.all(
        `SELECT room, retention_days FROM room_settings
         WHERE retention_days IS NOT NULL AND room > ? ORDER BY room LIMIT ?`,
        after ?? '',
        limit,
      ).map((r) => ({ room: r.room as string, retentionDays: Number(r.retention_days) })),
    );
  }

  rolesOf(userId: string, afterRoom: string | undefined, limit: number): Promise<UserRole[]> {
    return settle(() =>
      this.all(
        'SELECT room, role FROM room_roles WHERE user_id = ? AND room > ? ORDER BY room LIMIT ?',
        userId,
        afterRoom ?? '',
        limit,
      ).map((r) => ({ room: r.room as string, role: r.role as UserRole['role'] })),
    );
  }

  eraseRoles(userId: string): Promise<number> {
    return settle(
      () =>
        Number(this.conn.prepare('DELETE FROM room_roles WHERE user_id = ?').run(userId).changes) ||
        0,
    );
  }
}
