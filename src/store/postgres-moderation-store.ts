import { Pool, type PoolClient } from 'pg';
import { AUDIT_COLUMNS } from './moderation-sql';
import {
  type AuditEntry,
  type AuditRow,
  auditDetail,
  MAX_STAFF,
  type ModerationRecord,
  ModerationStore,
  type Restriction,
  restrictionOf,
  type RoomSettings,
  rowToAudit,
  settingsOf,
  type StoredStanding,
  type UserRole,
} from './moderation-store';
import { checkOut } from './postgres-connection';

/** Lock class of the per-room audit lock ("MODR"); the second key hashes the room. */
const AUDIT_LOCK_CLASS = 0x4d4f4452;

/**
 * Moderation on the PostgreSQL database of the message store, through a small pool of its own (the tables come
 * from the message store's migration 8). `record` takes a transaction-scoped advisory lock on the room, so
 * instances recording in one room at once get distinct, increasing audit `ts` values.
 */
export class PostgresModerationStore extends ModerationStore {
  private readonly pool: Pool;

  constructor(opts: { url: string; poolSize?: number; schema?: string }) {
    super();
    if (opts.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.schema))
      throw new Error(
        `PostgresModerationStore: invalid schema name ${JSON.stringify(opts.schema)}`,
      );
    this.pool = new Pool({
      connectionString: opts.url,
      options: `-c synchronous_commit=on${opts.schema ? ` -c search_path=${opts.schema}` : ''}`,
      max: opts.poolSize ?? 4,
      connectionTimeoutMillis: 5000,
    });
    this.pool.on('error', () => {}); // an idle client dying: the next query reconnects or fails visibly
  }

  async init(): Promise<void> {
    await this.pool.query('SELECT 1 FROM room_roles LIMIT 0');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async standing(room: string, userId: string): Promise<StoredStanding> {
    const { rows } = await this.pool.query<{
      role: string | null;
      ban: boolean;
      ban_until: string | null;
      ban_reason: string | null;
      mute: boolean;
      mute_until: string | null;
    }>(
      `SELECT (SELECT role FROM room_roles WHERE room = $1 AND user_id = $2) AS role,
         EXISTS (SELECT 1 FROM room_bans WHERE room = $1 AND user_id = $2) AS ban,
         (SELECT until FROM room_bans WHERE room = $1 AND user_id = $2) AS ban_until,
         (SELECT reason FROM room_bans WHERE room = $1 AND user_id = $2) AS ban_reason,
         EXISTS (SELECT 1 FROM room_mutes WHERE room = $1 AND user_id = $2) AS mute,
         (SELECT until FROM room_mutes WHERE room = $1 AND user_id = $2) AS mute_until`,
      [room, userId],
    );
    const r = rows[0];
    const out: StoredStanding = { role: (r.role as StoredStanding['role'] | null) ?? 'member' };
    if (r.ban) out.ban = restrictionOf({ until: r.ban_until, reason: r.ban_reason });
    if (r.mute) out.mute = restrictionOf({ until: r.mute_until });
    return out;
  }

  async staff(room: string): Promise<{ owners: string[]; moderators: string[] }> {
    const of = async (role: string): Promise<string[]> => {
      const { rows } = await this.pool.query<{ user_id: string }>(
        'SELECT user_id FROM room_roles WHERE room = $1 AND role = $2 ORDER BY user_id LIMIT $3',
        [room, role, MAX_STAFF],
      );
      return rows.map((r) => r.user_id);
    };
    const [owners, moderators] = await Promise.all([of('owner'), of('moderator')]);
    return { owners, moderators };
  }

  async settings(room: string): Promise<RoomSettings> {
    const { rows } = await this.pool.query<{
      retention_days: number | null;
      slow_mode_ms: number | null;
    }>('SELECT retention_days, slow_mode_ms FROM room_settings WHERE room = $1', [room]);
    return rows[0] ? settingsOf(rows[0]) : {};
  }

  async record(change: ModerationRecord): Promise<AuditEntry> {
    const c = await checkOut(this.pool);
    let broken: unknown;
    try {
      await c.query('BEGIN');
      try {
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
          AUDIT_LOCK_CLASS,
          change.room,
        ]);
        await apply(c, change);
        const { rows } = await c.query<{ ts: string | null }>(
          'SELECT max(ts) AS ts FROM room_audit WHERE room = $1',
          [change.room],
        );
        const ts = Math.max(Date.now(), Number(rows[0].ts ?? 0) + 1);
        await c.query(
          `INSERT INTO room_audit (room, ${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            change.room,
            ts,
            change.action,
            change.userId,
            change.by,
            change.until ?? null,
            change.reason ?? null,
            auditDetail(change),
          ],
        );
        await c.query('COMMIT');
        const { room: _room, ...entry } = change;
        return { ...entry, ts };
      } catch (err) {
        await c.query('ROLLBACK').catch((e: unknown) => (broken = e));
        throw err;
      }
    } finally {
      c.release(broken instanceof Error ? broken : undefined);
    }
  }

  async audit(room: string, before: number | undefined, limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM room_audit WHERE room = $1 AND ts < $2 ORDER BY ts DESC LIMIT $3`,
      [room, before ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map(rowToAudit);
  }

  async retentionRooms(
    after: string | undefined,
    limit: number,
  ): Promise<{ room: string; retentionDays: number }[]> {
    const { rows } = await this.pool.query<{ room: string; retention_days: number }>(
      `SELECT room, retention_days FROM room_settings
       WHERE retention_days IS NOT NULL AND room > $1 ORDER BY room LIMIT $2`,
      [after ?? '', limit],
    );
    return rows.map((r) => ({ room: r.room, retentionDays: Number(r.retention_days) }));
  }

  async rolesOf(userId: string, afterRoom: string | undefined, limit: number): Promise<UserRole[]> {
    const { rows } = await this.pool.query<{ room: string; role: UserRole['role'] }>(
      'SELECT room, role FROM room_roles WHERE user_id = $1 AND room > $2 ORDER BY room LIMIT $3',
      [userId, afterRoom ?? '', limit],
    );
    return rows;
  }

  async restrictions(
    room: string,
    kind: 'ban' | 'mute',
    afterUserId: string | undefined,
    limit: number,
  ): Promise<(Restriction & { userId: string })[]> {
    const sql =
      kind === 'ban'
        ? 'SELECT user_id, until, reason FROM room_bans WHERE room = $1 AND user_id > $2 ORDER BY user_id LIMIT $3'
        : 'SELECT user_id, until FROM room_mutes WHERE room = $1 AND user_id > $2 ORDER BY user_id LIMIT $3';
    const { rows } = await this.pool.query<{
      user_id: string;
      until: string | null;
      reason?: string | null;
    }>(sql, [room, afterUserId ?? '', limit]);
    return rows.map((r) => ({ userId: r.user_id, ...restrictionOf(r) }));
  }

  async eraseRoles(userId: string): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM room_roles WHERE user_id = $1', [
      userId,
    ]);
    return rowCount ?? 0;
  }
}

async function apply(c: PoolClient, m: ModerationRecord): Promise<void> {
  const key = [m.room, m.userId];
  switch (m.action) {
    case 'role':
      if (m.role === 'member' || m.role === undefined)
        await c.query('DELETE FROM room_roles WHERE room = $1 AND user_id = $2', key);
      else
        await c.query(
          `INSERT INTO room_roles (room, user_id, role) VALUES ($1, $2, $3)
           ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role`,
          [...key, m.role],
        );
      return;
    case 'ban':
      await c.query(
        `INSERT INTO room_bans (room, user_id, until, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (room, user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason`,
        [...key, m.until ?? null, m.reason ?? null],
      );
      return;
    case 'unban':
      await c.query('DELETE FROM room_bans WHERE room = $1 AND user_id = $2', key);
      return;
    case 'mute':
      await c.query(
        `INSERT INTO room_mutes (room, user_id, until) VALUES ($1, $2, $3)
         ON CONFLICT (room, user_id) DO UPDATE SET until = excluded.until`,
        [...key, m.until ?? null],
      );
      return;
    case 'unmute':
      await c.query('DELETE FROM room_mutes WHERE room = $1 AND user_id = $2', key);
      return;
    case 'settings': {
      const s = m.settings ?? {};
      if (s.retentionDays === undefined && s.slowModeMs === undefined)
        await c.query('DELETE FROM room_settings WHERE room = $1', [m.room]);
      else
        await c.query(
          `INSERT INTO room_settings (room, retention_days, slow_mode_ms) VALUES ($1, $2, $3)
           ON CONFLICT (room) DO UPDATE SET retention_days = excluded.retention_days,
             slow_mode_ms = excluded.slow_mode_ms`,
          [m.room, s.retentionDays ?? null, s.slowModeMs ?? null],
        );
      return;
    }
    case 'kick':
    case 'delete':
      return; // the audit entry only
  }
}
