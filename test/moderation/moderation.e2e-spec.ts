import { randomBytes } from 'node:crypto';
import { backends } from '../chat/chat-stores';
import { expectNoPush, trackedClients } from '../support/clients';
import { startServer, type TestServer } from '../support/server';
import { Receiver } from '../support/webhook-receiver';
import { api, auditOf, forbidden, MOD_ENV, refused, setRole, uid } from './moderation-support';

/**
 * Room moderation over real sockets, on SQLite and on PostgreSQL: roles and who may do what, kick, ban, mute,
 * room.info, the audit log and the `room.moderated` webhook. Every refusal is `forbidden` with its reason, and a
 * refused request records nothing.
 */
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe.each(backends)('room moderation on $name', ({ name, env, gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;
    let hooks: Receiver;
    beforeAll(async () => {
      hooks = await Receiver.start();
      server = await startServer({
        ...MOD_ENV,
        ...env(),
        WEBHOOK_URL: hooks.url,
        WEBHOOK_SECRET: SECRET,
      });
    }, 30_000);
    afterAll(async () => {
      await server?.close();
      await hooks?.stop();
    });
    const { connect } = trackedClients(() => server);

    it('room.info names the owners and moderators the server API appointed, with settings and firstSeq', async () => {
      const room = uid('info');
      const [owner, mod, carol] = [uid('owner'), uid('mod'), uid('carol')];
      const c = await connect(carol);
      await c.call('chat.join', { room });
      await setRole(server, room, owner, 'owner');
      expect((await c.next('room.role')).data).toEqual({ room, userId: owner, role: 'owner' });
      await setRole(server, room, mod, 'moderator');
      await c.call('chat.send', { room, text: 'one' });
      expect(await c.call('room.info', { room })).toEqual({
        room,
        owners: [owner],
        moderators: [mod],
        settings: {},
        firstSeq: 1,
      });
      // The join right is needed: a private room without a claim is refused.
      expect((await refused(c, 'room.info', { room: `private:${room}` })).data.code).toBe(
        'forbidden',
      );
    });

    it('owners set any role, moderators only member <-> moderator of others, members none', async () => {
      const room = uid('roles');
      const [owner, mod, bob, carol] = [uid('owner'), uid('mod'), uid('bob'), uid('carol')];
      await setRole(server, room, owner, 'owner');
      await setRole(server, room, mod, 'moderator');
      const o = await connect(owner);
      const m = await connect(mod);
      const b = await connect(bob);
      await o.call('chat.join', { room });
      const before = await auditOf(server, room);

      expect(
        (await refused(b, 'room.role', { room, userId: carol, role: 'moderator' })).data,
      ).toEqual(forbidden('role'));
      expect((await refused(m, 'room.role', { room, userId: carol, role: 'owner' })).data).toEqual(
        forbidden('outranked'),
      );
      expect((await refused(m, 'room.role', { room, userId: owner, role: 'member' })).data).toEqual(
        forbidden('outranked'),
      );
      expect((await refused(m, 'room.role', { room, userId: mod, role: 'member' })).data).toEqual(
        forbidden('role'),
      );
      // Nothing changed: no audit entry, no push, the same staff.
      expect(await auditOf(server, room)).toEqual(before);
      await expectNoPush(o, 0, 'room.role');

      await m.call('room.role', { room, userId: carol, role: 'moderator' });
      expect((await o.next('room.role')).data).toEqual({ room, userId: carol, role: 'moderator' });
      await m.call('room.role', { room, userId: carol, role: 'member' });
      await o.call('room.role', { room, userId: bob, role: 'owner' });
      const info = await o.call('room.info', { room });
      expect(info.owners).toEqual([owner, bob].sort());
      expect(info.moderators).toEqual([mod]);
      const audit = await auditOf(server, room);
      expect(audit.slice(0, 3)).toEqual([
        expect.objectContaining({ action: 'role', userId: bob, by: owner, role: 'owner' }),
        expect.objectContaining({ action: 'role', userId: carol, by: mod, role: 'member' }),
        expect.objectContaining({ action: 'role', userId: carol, by: mod, role: 'moderator' }),
      ]);
    });

    it('kick takes every connection of the user out of the room; they may join again', async () => {
      const room = uid('kick');
      const [mod, bob] = [uid('mod'), uid('bob')];
      await setRole(server, room, mod, 'moderator');
      const m = await connect(mod);
      const b1 = await connect(bob);
      const b2 = await connect(bob);
      await b1.call('chat.join', { room });
      await b2.call('chat.join', { room });
      await m.call('room.kick', { room, userId: bob });
      expect((await b1.next('chat.left')).data).toEqual({ room, reason: 'kicked' });
      expect((await b2.next('chat.left')).data).toEqual({ room, reason: 'kicked' });
      expect((await refused(b1, 'chat.send', { room, text: 'x' })).data.code).toBe('not_joined');
      await b1.call('chat.join', { room });
      await b1.call('chat.send', { room, text: 'back' });
      // A moderator cannot kick an owner, nor a member kick anyone.
      const owner = uid('owner');
      await setRole(server, room, owner, 'owner');
      expect((await refused(m, 'room.kick', { room, userId: owner })).data).toEqual(
        forbidden('outranked'),
      );
      expect((await refused(b1, 'room.kick', { room, userId: mod })).data).toEqual(
        forbidden('role'),
      );
    });

    it('ban: out of the room, joins refused with the reason and until, admin tokens untouched, unban lets in', async () => {
      const room = uid('ban');
      const [owner, bob] = [uid('owner'), uid('bob')];
      await setRole(server, room, owner, 'owner');
      const o = await connect(owner);
      const b = await connect(bob);
      await b.call('chat.join', { room });
      const until = Date.now() + 3_600_000;
      await o.call('room.ban', { room, userId: bob, until, reason: 'spam' });
      expect((await b.next('chat.left')).data).toEqual({ room, reason: 'banned' });
      expect(b.closeCode).toBeUndefined();
      expect((await refused(b, 'chat.join', { room })).data).toEqual(forbidden('banned', until));
      expect((await refused(b, 'chat.history', { room })).data).toEqual(forbidden('banned', until));
      // A connection of the same user whose token has `admin` is never refused.
      const bAdmin = await connect(bob, { roles: ['admin'] });
      await bAdmin.call('chat.join', { room });
      await bAdmin.call('chat.send', { room, text: 'admin stays' });
      await o.call('room.unban', { room, userId: bob });
      await b.call('chat.join', { room });
      const audit = await auditOf(server, room);
      expect(audit[0]).toEqual({ ts: expect.any(Number), action: 'unban', userId: bob, by: owner });
      expect(audit[1]).toEqual({
        ts: expect.any(Number),
        action: 'ban',
        userId: bob,
        by: owner,
        until,
        reason: 'spam',
      });
      await hooks.until(
        (all) =>
          all.some(
            (d) =>
              d.body.type === 'room.moderated' &&
              d.body.data.action === 'ban' &&
              d.body.data.userId === bob,
          ),
        'room.moderated ban',
      );
      const hook = hooks
        .of('room.moderated')
        .find((d) => d.body.data.action === 'ban' && d.body.data.userId === bob)!;
      expect(hook.body.data).toEqual({ room, action: 'ban', userId: bob, by: owner, until });
    });

    it('a timed ban and a timed mute end by themselves at until', async () => {
      const room = uid('timed');
      const [owner, bob] = [uid('owner'), uid('bob')];
      await setRole(server, room, owner, 'owner');
      const o = await connect(owner);
      const b = await connect(bob);
      const until = Date.now() + 1500;
      await o.call('room.ban', { room, userId: bob, until });
      await o.call('room.mute', { room, userId: bob, until });
      expect((await refused(b, 'chat.join', { room })).data).toEqual(forbidden('banned', until));
      // No event announces the end of a ban: the join is tried again until it is let in.
      const deadline = Date.now() + 15_000;
      let reply = await b.request('chat.join', { room });
      while (reply.event === 'error' && Date.now() < deadline) {
        expect(reply.data).toEqual(forbidden('banned', until));
        await new Promise((r) => setTimeout(r, 100));
        reply = await b.request('chat.join', { room });
      }
      expect(reply.event).toBe('chat.join');
      expect(Date.now()).toBeGreaterThanOrEqual(until);
      await b.call('chat.send', { room, text: 'served my time' });
    });

    it('nobody bans or kicks an admin; a ban over the server API never removes an admin connection', async () => {
      const room = uid('admin');
      const [owner, boss] = [uid('owner'), uid('boss')];
      await setRole(server, room, owner, 'owner');
      const o = await connect(owner);
      const admin = await connect(boss, { roles: ['admin'] });
      await admin.call('chat.join', { room });
      expect((await refused(o, 'room.ban', { room, userId: boss })).data).toEqual(
        forbidden('admin'),
      );
      expect((await refused(o, 'room.kick', { room, userId: boss })).data).toEqual(
        forbidden('admin'),
      );
      const mark = admin.frames.length;
      expect((await api(server, 'POST', `/api/rooms/${room}/bans`, { userId: boss })).status).toBe(
        204,
      );
      await expectNoPush(admin, mark, 'chat.left');
      await admin.call('chat.join', { room: uid('other') });
      await admin.call('chat.join', { room });
      // The admin acts as an owner: bans the owner.
      await admin.call('room.ban', { room, userId: owner });
      expect((await refused(o, 'chat.join', { room })).data).toEqual(forbidden('banned'));
    });

    it('mute refuses sends (reason and until) but not reading; unmute lets the user send again', async () => {
      const room = uid('mute');
      const [mod, bob] = [uid('mod'), uid('bob')];
      await setRole(server, room, mod, 'moderator');
      const m = await connect(mod);
      const b = await connect(bob);
      await b.call('chat.join', { room });
      await m.call('chat.join', { room });
      const until = Date.now() + 600_000;
      await m.call('room.mute', { room, userId: bob, until });
      expect((await refused(b, 'chat.send', { room, text: 'hi' })).data).toEqual(
        forbidden('muted', until),
      );
      await m.call('chat.send', { room, text: 'still readable' });
      expect((await b.next('chat.message')).data.text).toBe('still readable');
      expect((await b.call('chat.history', { room })).messages).toHaveLength(1);
      await m.call('room.unmute', { room, userId: bob });
      await b.call('chat.send', { room, text: 'free again' });
      // A server API mute for good, then its removal.
      expect((await api(server, 'POST', `/api/rooms/${room}/mutes`, { userId: bob })).status).toBe(
        204,
      );
      expect((await refused(b, 'chat.send', { room, text: 'x' })).data).toEqual(forbidden('muted'));
      expect((await api(server, 'DELETE', `/api/rooms/${room}/mutes/${bob}`)).status).toBe(204);
      await b.call('chat.send', { room, text: 'y' });
      const audit = await auditOf(server, room);
      expect(audit.map((e) => [e.action, e.by])).toEqual([
        ['unmute', 'server'],
        ['mute', 'server'],
        ['unmute', mod],
        ['mute', mod],
        ['role', 'server'],
      ]);
    });

    it('moderators delete others’ messages (audited, room.moderated), members may not; a mute refuses edits and reactions', async () => {
      const room = uid('delete');
      const [owner, mod, bob, carol] = [uid('owner'), uid('mod'), uid('bob'), uid('carol')];
      await setRole(server, room, owner, 'owner');
      await setRole(server, room, mod, 'moderator');
      const [o, m, b, c] = await Promise.all([owner, mod, bob, carol].map((u) => connect(u)));
      for (const x of [o, m, b, c]) await x.call('chat.join', { room });
      const one = (await b.call('chat.send', { room, text: 'one' })).message;
      const two = (await b.call('chat.send', { room, text: 'two' })).message;
      const boss = (await o.call('chat.send', { room, text: 'boss' })).message;
      expect((await refused(c, 'chat.delete', { room, seq: one.seq })).data).toEqual(
        forbidden('role'),
      );
      expect((await refused(m, 'chat.delete', { room, seq: boss.seq })).data).toEqual(
        forbidden('outranked'),
      );
      await m.call('chat.delete', { room, seq: one.seq });
      expect((await b.next('chat.deleted')).data).toEqual({ room, seq: one.seq });
      // The audit entry and the webhook follow the reply (a reaction to chat.deleted).
      await hooks.until(
        (all) =>
          all.some(
            (d) =>
              d.body.type === 'room.moderated' &&
              d.body.data.room === room &&
              d.body.data.action === 'delete',
          ),
        'room.moderated delete',
      );
      const audit = await auditOf(server, room);
      expect(audit[0]).toEqual({
        ts: expect.any(Number),
        action: 'delete',
        userId: bob,
        by: mod,
        reason: `seq ${one.seq}`,
      });
      // The author's own delete is no moderation action.
      await b.call('chat.delete', { room, seq: two.seq });
      expect((await auditOf(server, room)).filter((e) => e.action === 'delete')).toHaveLength(1);
      const three = (await b.call('chat.send', { room, text: 'three' })).message;
      await m.call('room.mute', { room, userId: bob });
      expect((await refused(b, 'chat.edit', { room, seq: three.seq, text: 'x' })).data).toEqual(
        forbidden('muted'),
      );
      expect(
        (await refused(b, 'chat.react', { room, seq: boss.seq, reaction: 'ok', on: true })).data,
      ).toEqual(forbidden('muted'));
      await m.call('room.unmute', { room, userId: bob });
      await b.call('chat.react', { room, seq: boss.seq, reaction: 'ok', on: true });
      await b.call('chat.edit', { room, seq: three.seq, text: 'three!' });
    });

    it('refuses an until in the past or from the year 3000 on (validation_failed, 400) and records nothing', async () => {
      const room = uid('until');
      const owner = uid('owner');
      await setRole(server, room, owner, 'owner');
      const o = await connect(owner);
      const before = await auditOf(server, room);
      for (const until of [Date.now() - 1000, Date.UTC(3000, 0, 1), 1.5, 'soon']) {
        for (const event of ['room.ban', 'room.mute']) {
          const reply = await refused(o, event, { room, userId: 'bob', until });
          expect(reply.data.code).toBe('validation_failed');
          expect(reply.data.details).toEqual([{ field: 'until', errors: [expect.any(String)] }]);
        }
        const res = await api(server, 'POST', `/api/rooms/${room}/bans`, { userId: 'bob', until });
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body)).toContain('until');
      }
      expect((await refused(o, 'room.role', { room, userId: 'bob', role: 'king' })).data.code).toBe(
        'validation_failed',
      );
      const bad = await api(server, 'PUT', `/api/rooms/${room}/roles/bob`, { role: 'king' });
      expect(bad.status).toBe(400);
      const badSettings = await api(server, 'PUT', `/api/rooms/${room}/settings`, {
        slowModeMs: -1,
      });
      expect(badSettings.status).toBe(400);
      expect(await auditOf(server, room)).toEqual(before);
      // Unknown users are fine: a ban may precede a first visit.
      const later = uid('later');
      await o.call('room.ban', { room, userId: later });
      const l = await connect(later);
      expect((await refused(l, 'chat.join', { room })).data).toEqual(forbidden('banned'));
    });

    it('settings: owners only; slow mode holds members to one message per interval, moderators exempt', async () => {
      const room = uid('slow');
      const [owner, mod, bob] = [uid('owner'), uid('mod'), uid('bob')];
      await setRole(server, room, owner, 'owner');
      await setRole(server, room, mod, 'moderator');
      const o = await connect(owner);
      const m = await connect(mod);
      const b = await connect(bob);
      for (const c of [o, m, b]) await c.call('chat.join', { room });
      expect((await refused(m, 'room.settings', { room, slowModeMs: 1000 })).data).toEqual(
        forbidden('role'),
      );
      expect(
        await o.call('room.settings', { room, slowModeMs: 60_000, retentionDays: 30 }),
      ).toEqual({ settings: { slowModeMs: 60_000, retentionDays: 30 } });
      await b.call('chat.send', { room, text: 'first' });
      const limited = await refused(b, 'chat.send', { room, text: 'second' });
      expect(limited.data.code).toBe('rate_limited');
      expect(limited.data.details.retryAfterMs).toBeGreaterThan(50_000);
      expect(limited.data.details.retryAfterMs).toBeLessThanOrEqual(60_000);
      // A refused send is not stored.
      expect((await b.call('chat.history', { room })).messages.map((x: any) => x.text)).toEqual([
        'first',
      ]);
      await m.call('chat.send', { room, text: 'mod 1' });
      await m.call('chat.send', { room, text: 'mod 2' });
      await o.call('chat.send', { room, text: 'owner' });
      const res = await api(server, 'PUT', `/api/rooms/${room}/settings`, { slowModeMs: 0 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ settings: { retentionDays: 30 } });
      await b.call('chat.send', { room, text: 'after slow mode' });
      expect((await o.call('room.info', { room })).settings).toEqual({ retentionDays: 30 });
    });

    it('pages the audit log newest first by ts, without skipping or repeating an entry', async () => {
      const room = uid('audit');
      const users = Array.from({ length: 7 }, (_, i) => uid(`u${i}`));
      for (const u of users) await setRole(server, room, u, 'moderator');
      const seen: any[] = [];
      let before: number | undefined;
      for (;;) {
        const q = before === undefined ? '?limit=3' : `?limit=3&before=${before}`;
        const res = await api(server, 'GET', `/api/rooms/${room}/audit${q}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.entries);
        if (res.body.next === undefined) break;
        expect(res.body.entries).toHaveLength(3);
        before = res.body.next;
      }
      expect(seen.map((e) => e.userId)).toEqual([...users].reverse());
      const ts = seen.map((e) => e.ts);
      expect([...ts].sort((a, b) => b - a)).toEqual(ts);
      expect(new Set(ts).size).toBe(ts.length);
      expect((await api(server, 'GET', `/api/rooms/${room}/audit?limit=0`)).status).toBe(400);
      expect((await api(server, 'GET', `/api/rooms/${room}/audit`, undefined, null)).status).toBe(
        401,
      );
    });
  });
});
