import { Injectable } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessPolicy, type ModerationCheck } from '../../src/access/access-policy';
import { ClaimAccessPolicy } from '../../src/access/claim-access-policy';
import type { Principal } from '../../src/auth/principal';
import { trackedClients } from '../support/clients';
import { RoleDataPart } from '../../src/moderation/role-data.part';
import { RoomRetentionSettings } from '../../src/moderation/room-retention-settings';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';
import { api, auditOf, forbidden, MOD_ENV, refused, setRole, uid } from './moderation-support';

/**
 * A team's own AccessPolicy sees every moderation decision (`canModerate`, with the actor's role and Hubbub's
 * answer) and adds its own rules; bans and mutes stay rules no policy lifts. And on SQLite, what was decided
 * survives a restart of the server.
 */
@Injectable()
class TeamPolicy extends ClaimAccessPolicy {
  readonly checks: { userId: string; check: ModerationCheck }[] = [];

  override canModerate(principal: Principal, check: ModerationCheck): boolean {
    this.checks.push({ userId: principal.userId, check: { ...check } });
    // The team's helpers may kick members anywhere, though Hubbub's roles make them members.
    if (check.action === 'kick' && principal.roles.includes('helper'))
      return check.targetRole === 'member';
    // Announcement rooms: only moderators and owners write.
    if (check.action === 'send' && check.room.startsWith('announce-'))
      return check.role !== 'member';
    // Everyone may join, but in this team nobody is banned from `lobby-` rooms by a socket request.
    if (check.action === 'ban' && check.room.startsWith('lobby-')) return false;
    return check.allowed;
  }
}

describe('a team AccessPolicy and room moderation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(MOD_ENV, {
      providers: [{ provide: AccessPolicy, useClass: TeamPolicy }],
    });
  }, 30_000);
  afterAll(() => server?.close());
  const { connect } = trackedClients(() => server);
  const policy = (): TeamPolicy => server.app.get(AccessPolicy);

  it('sees the role and Hubbub’s answer, and may allow more', async () => {
    const room = uid('helped');
    const [helper, bob] = [uid('helper'), uid('bob')];
    const h = await connect(helper, { roles: ['helper'] });
    const b = await connect(bob);
    await b.call('chat.join', { room });
    await h.call('room.kick', { room, userId: bob });
    expect((await b.next('chat.left')).data).toEqual({ room, reason: 'kicked' });
    const seen = policy().checks.find((c) => c.userId === helper && c.check.room === room)!;
    expect(seen.check).toEqual({
      action: 'kick',
      room,
      targetUserId: bob,
      role: 'member',
      targetRole: 'member',
      allowed: false,
      reason: 'role',
    });
  });

  it('may refuse what Hubbub allows: reason "policy", and nothing is recorded', async () => {
    const room = uid('lobby');
    const [owner, bob] = [uid('owner'), uid('bob')];
    await setRole(server, room, owner, 'owner');
    const o = await connect(owner);
    const b = await connect(bob);
    await b.call('chat.join', { room });
    expect((await refused(o, 'room.ban', { room, userId: bob })).data).toEqual(forbidden('policy'));
    await b.call('chat.send', { room, text: 'still here' });
    expect((await auditOf(server, room)).map((e) => e.action)).toEqual(['role']);
    // A member's send in an announcement room is put to the policy too.
    const announce = uid('announce');
    await setRole(server, announce, owner, 'owner');
    await b.call('chat.join', { room: announce });
    await o.call('chat.join', { room: announce });
    expect((await refused(b, 'chat.send', { room: announce, text: 'x' })).data).toEqual(
      forbidden('policy'),
    );
    await o.call('chat.send', { room: announce, text: 'news' });
    expect(
      policy().checks.some(
        (c) => c.userId === bob && c.check.action === 'send' && c.check.role === 'member',
      ),
    ).toBe(true);
  });

  it('cannot lift a ban: the join right is refused before the policy grants it', async () => {
    const room = uid('banned');
    const bob = uid('bob');
    const admin = await connect(uid('root'), { roles: ['admin'] });
    await admin.call('room.ban', { room, userId: bob });
    const b = await connect(bob);
    expect((await refused(b, 'chat.join', { room })).data).toEqual(forbidden('banned'));
  });
});

describe('moderation on SQLite across a restart', () => {
  it('keeps roles, bans, mutes and settings', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hubbub-mod-')), 'hubbub.db');
    const room = uid('kept');
    const [owner, bob, carol] = [uid('owner'), uid('bob'), uid('carol')];
    let server = await startServer({ ...MOD_ENV, SQLITE_PATH: path });
    try {
      await setRole(server, room, owner, 'owner');
      const o = await connectTo(server, owner);
      await o.call('room.ban', { room, userId: bob, reason: 'spam' });
      await o.call('room.mute', { room, userId: carol });
      await o.call('room.settings', { room, slowModeMs: 5000 });
      await o.close();
    } finally {
      await server.close();
    }
    server = await startServer({ ...MOD_ENV, SQLITE_PATH: path });
    try {
      const b = await connectTo(server, bob);
      expect((await refused(b, 'chat.join', { room })).data).toEqual(forbidden('banned'));
      const c = await connectTo(server, carol);
      await c.call('chat.join', { room });
      expect((await refused(c, 'chat.send', { room, text: 'x' })).data).toEqual(forbidden('muted'));
      expect(await c.call('room.info', { room })).toEqual({
        room,
        owners: [owner],
        moderators: [],
        settings: { slowModeMs: 5000 },
        firstSeq: 1,
      });
      await b.close();
      await c.close();
    } finally {
      await server.close();
    }
  }, 60_000);
});

async function connectTo(server: TestServer, sub: string): Promise<TestClient> {
  return TestClient.connect(server.wsUrl, await server.token(sub));
}

describe('the roles part of a person’s data (for the export and erasure of a person)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(MOD_ENV);
  }, 30_000);
  afterAll(() => server?.close());

  it('exports the user’s roles page by page and erases them (idempotent), forgetting cached roles', async () => {
    const part = server.app.get(RoleDataPart);
    expect(part.name).toBe('roles');
    const user = uid('person');
    const rooms = [uid('a'), uid('b'), uid('c')].sort();
    await setRole(server, rooms[0], user, 'owner');
    await setRole(server, rooms[1], user, 'moderator');
    await setRole(server, rooms[2], user, 'owner');
    const c = await connectTo(server, user);
    // The user's owner role is cached by a check: erasing must drop it on every instance.
    await c.call('room.settings', { room: rooms[0], slowModeMs: 1000 });
    const exported: object[] = [];
    for await (const record of part.export(user)) exported.push(record);
    expect(exported).toEqual([
      { room: rooms[0], role: 'owner' },
      { room: rooms[1], role: 'moderator' },
      { room: rooms[2], role: 'owner' },
    ]);
    await part.erase(user);
    await part.erase(user);
    const after: object[] = [];
    for await (const record of part.export(user)) after.push(record);
    expect(after).toEqual([]);
    expect((await c.call('room.info', { room: rooms[0] })).owners).toEqual([]);
    expect((await refused(c, 'room.settings', { room: rooms[0], slowModeMs: 0 })).data).toEqual(
      forbidden('role'),
    );
    await c.close();
  });

  it('tells the retention sweep a room’s own retentionDays, else the default', async () => {
    const settings = server.app.get(RoomRetentionSettings);
    const room = uid('kept');
    expect(await settings.daysFor(room, undefined)).toBeUndefined();
    expect(await settings.daysFor(room, 30)).toBe(30);
    const res = await api(server, 'PUT', `/api/rooms/${room}/settings`, { retentionDays: 2 });
    expect(res.body).toEqual({ settings: { retentionDays: 2 } });
    expect(await settings.daysFor(room, 30)).toBe(2);
    expect(await settings.anyRoomHasRetention()).toBe(true);
  });
});
