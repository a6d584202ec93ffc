/**
 * Read markers and unread counts end to end (docs/protocol.md: "Read markers and unread counts"), once per message
 * store: chat.read forward only, a user's own message, chat.join's lastRead and unread, chat.unread (dm rooms, cap,
 * order), chat.forget, several devices, a restart, and the server API's GET /api/users/:userId/unread.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import type { TestClient } from '../support/ws-client';
import { backends, BASE_ENV } from './chat-stores';

const API_KEY = 'unread-test-key';
const api = serverApi(API_KEY);

interface RoomUnread {
  room: string;
  seq: number;
  lastRead: number;
  unread: number;
  mentions: number;
}

const unreadOf = async (client: TestClient, room: string): Promise<RoomUnread | undefined> =>
  ((await client.call('chat.unread', {})).rooms as RoomUnread[]).find((r) => r.room === room);

describe.each(backends)('read markers and unread counts on $name', ({ name, env, gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;
    // The SQLite file is named here, so that a second server can open it after a restart.
    const serverEnv = (): Record<string, string> => ({
      ...BASE_ENV,
      API_KEY,
      SQLITE_PATH: join(mkdtempSync(join(tmpdir(), 'hubbub-unread-')), 'hubbub.db'),
      ...env(),
    });
    let started: Record<string, string>;
    beforeAll(async () => {
      started = serverEnv();
      server = await startServer(started);
    });
    afterAll(() => server?.close());
    const { connect, closeAll } = trackedClients(() => server);

    /** A room where `by` has sent `n` messages; `reader` has joined it. */
    async function roomWith(by: TestClient, reader: TestClient, n: number): Promise<string> {
      const room = `room-${rid()}`;
      await by.call('chat.join', { room });
      await reader.call('chat.join', { room });
      for (let i = 1; i <= n; i++) await by.call('chat.send', { room, text: `m${i}` });
      return room;
    }

    it("chat.join's reply carries lastRead 0 and every message of others as unread, then what chat.read left", async () => {
      const a = await connect(`alice-${rid()}`);
      const b = await connect(`bob-${rid()}`);
      const room = await roomWith(a, b, 3);
      const first = await b.call('chat.join', { room });
      expect(first).toMatchObject({ room, seq: 3, lastRead: 0, unread: 3 });
      expect(await b.call('chat.read', { room, seq: 2 })).toEqual({});
      await b.call('chat.leave', { room });
      expect(await b.call('chat.join', { room })).toMatchObject({ seq: 3, lastRead: 2, unread: 1 });
      // The sender's own messages are never unread to them.
      await a.call('chat.leave', { room });
      expect(await a.call('chat.join', { room })).toMatchObject({ lastRead: 3, unread: 0 });
    });

    it('chat.read never moves the marker back, and its push says where the marker is', async () => {
      const a = await connect(`alice-${rid()}`);
      const bob = `bob-${rid()}`;
      const b = await connect(bob);
      const room = await roomWith(a, b, 4);
      await b.call('chat.read', { room, seq: 3 });
      expect((await a.next('chat.read')).data).toEqual({ room, userId: bob, seq: 3 });
      await b.call('chat.read', { room, seq: 1 });
      expect((await a.next('chat.read')).data).toEqual({ room, userId: bob, seq: 3 });
      expect(await unreadOf(b, room)).toEqual({
        room,
        seq: 4,
        lastRead: 3,
        unread: 1,
        mentions: 0,
      });
    });

    it('chat.read above the last seq is validation_failed on seq and leaves the marker', async () => {
      const a = await connect(`alice-${rid()}`);
      const b = await connect(`bob-${rid()}`);
      const room = await roomWith(a, b, 2);
      await b.call('chat.read', { room, seq: 1 });
      const reply = await b.request('chat.read', { room, seq: 3 });
      expect(reply.data).toMatchObject({
        code: 'validation_failed',
        details: [{ field: 'seq' }],
      });
      expect(await unreadOf(b, room)).toMatchObject({ lastRead: 1, unread: 1 });
    });

    it("a user's own chat.send moves their marker to their message", async () => {
      const a = await connect(`alice-${rid()}`);
      const b = await connect(`bob-${rid()}`);
      const room = await roomWith(a, b, 3);
      const { message } = await b.call('chat.send', { room, text: 'caught up' });
      expect(await unreadOf(b, room)).toEqual({
        room,
        seq: message.seq,
        lastRead: message.seq,
        unread: 0,
        mentions: 0,
      });
    });

    it("a read on one device lowers the count on the user's other devices, joined to the room or not", async () => {
      const a = await connect(`alice-${rid()}`);
      const bob = `bob-${rid()}`;
      const phone = await connect(bob);
      const laptop = await connect(bob);
      const tablet = await connect(bob);
      const room = await roomWith(a, phone, 3);
      await laptop.call('chat.join', { room });
      expect(await unreadOf(tablet, room)).toBeUndefined(); // no marker yet
      const mark = phone.frames.length;
      await phone.call('chat.read', { room, seq: 3 });
      for (const device of [laptop, tablet]) {
        expect((await device.next('chat.read')).data).toEqual({ room, userId: bob, seq: 3 });
        expect(await unreadOf(device, room)).toMatchObject({ lastRead: 3, unread: 0 });
      }
      await expectNoPush(phone, mark, 'chat.read'); // not echoed to the reader
    });

    it('chat.unread lists the rooms with a marker and the dm rooms, newest activity first', async () => {
      const me = `me-${rid()}`;
      const peer = `peer-${rid()}`;
      const other = `other-${rid()}`;
      const m = await connect(me);
      const p = await connect(peer);
      const o = await connect(other);
      const quiet = await roomWith(o, m, 2);
      await m.call('chat.read', { room: quiet, seq: 1 });
      const busy = await roomWith(o, m, 1);
      await m.call('chat.read', { room: busy, seq: 0 });
      // Messages a few ms apart: rooms are ordered by the ts of their last message.
      const later = () => new Promise((r) => setTimeout(r, 3));
      await later();
      // A dm the user never joined nor read is listed, with every message unread.
      await p.call('chat.dm', { to: me, text: 'one' });
      await p.call('chat.dm', { to: me, text: 'two' });
      const dm = `dm:${[me, peer].sort().join(':')}`;
      await later();
      await o.call('chat.send', { room: busy, text: 'newest' });
      const { rooms } = await m.call('chat.unread', {});
      expect(rooms).toEqual([
        { room: busy, seq: 2, lastRead: 0, unread: 2, mentions: 0 },
        { room: dm, seq: 2, lastRead: 0, unread: 2, mentions: 0 },
        { room: quiet, seq: 2, lastRead: 1, unread: 1, mentions: 0 },
      ]);
      // The sender of the dm has it read.
      expect(await unreadOf(p, dm)).toEqual({
        room: dm,
        seq: 2,
        lastRead: 2,
        unread: 0,
        mentions: 0,
      });
      // Another user's dm room cannot be joined, so it cannot be read either.
      expect((await o.request('chat.read', { room: dm, seq: 1 })).data.code).toBe('not_joined');
    });

    it('pushes user.mention to every connection of the mentioned user, joined or not, and counts the mentions', async () => {
      const alice = `alice-${rid()}`;
      const bob = `bob-${rid()}`;
      const a = await connect(alice);
      const a2 = await connect(alice);
      const joined = await connect(bob);
      const away = await connect(bob);
      const room = await roomWith(a, joined, 1);
      await joined.call('chat.read', { room, seq: 0 }); // a marker: the room is listed
      const marks = [a, a2].map((c) => c.frames.length);
      const { message } = await a.call('chat.send', { room, text: `hey @${bob} and @${alice}` });
      expect(message.mentions).toEqual([bob, alice]);
      for (const device of [joined, away]) {
        expect((await device.next('user.mention')).data).toEqual({ room, message });
      }
      // The author mentioning themselves is pushed nothing.
      await expectNoPush(a, marks[0], 'user.mention');
      await expectNoPush(a2, marks[1], 'user.mention');
      await a.call('chat.send', { room, text: `again @${bob}` });
      await away.next('user.mention');
      expect(await unreadOf(away, room)).toEqual({
        room,
        seq: 3,
        lastRead: 0,
        unread: 3,
        mentions: 2,
      });
      await joined.call('chat.read', { room, seq: 2 });
      expect(await unreadOf(away, room)).toMatchObject({ lastRead: 2, unread: 1, mentions: 1 });
      // A deleted message is neither unread nor a mention any more.
      await a.call('chat.delete', { room, seq: 3 });
      expect(await unreadOf(away, room)).toMatchObject({ lastRead: 2, unread: 0, mentions: 0 });
      // An edit that mentions the user anew pushes user.mention again.
      const edited = await a.call('chat.edit', { room, seq: 1, text: `first @${bob}` });
      expect((await away.next('user.mention')).data).toEqual({ room, message: edited.message });
    });

    it('caps unread at 1000', async () => {
      const a = await connect(`alice-${rid()}`);
      const b = await connect(`bob-${rid()}`);
      const room = `room-${rid()}`;
      await a.call('chat.join', { room });
      await Promise.all(
        Array.from({ length: 1003 }, (_, i) => a.call('chat.send', { room, text: `m${i}` })),
      );
      expect(await b.call('chat.join', { room })).toMatchObject({ seq: 1003, unread: 1000 });
      await b.call('chat.read', { room, seq: 10 });
      expect(await unreadOf(b, room)).toMatchObject({ lastRead: 10, unread: 993 });
    }, 60_000);

    it('lists at most 200 rooms', async () => {
      const me = await connect(`me-${rid()}`);
      const rooms = Array.from({ length: 201 }, (_, i) => `r${i}-${rid()}`);
      for (const room of rooms) {
        await me.call('chat.join', { room });
        await me.call('chat.read', { room, seq: 0 });
        await me.call('chat.leave', { room });
      }
      expect((await me.call('chat.unread', {})).rooms).toHaveLength(200);
    }, 60_000);

    it('chat.forget drops the marker; a dm room stays listed, read from the start', async () => {
      const me = `me-${rid()}`;
      const peer = `peer-${rid()}`;
      const m = await connect(me);
      const p = await connect(peer);
      const room = await roomWith(p, m, 2);
      await m.call('chat.read', { room, seq: 2 });
      await p.call('chat.dm', { to: me, text: 'hi' });
      const dm = `dm:${[me, peer].sort().join(':')}`;
      await m.call('chat.join', { room: dm });
      await m.call('chat.read', { room: dm, seq: 1 });
      expect(await m.call('chat.forget', { room })).toEqual({});
      expect(await m.call('chat.forget', { room: dm })).toEqual({});
      expect(await unreadOf(m, room)).toBeUndefined();
      expect(await unreadOf(m, dm)).toMatchObject({ lastRead: 0, unread: 1 });
      expect(await m.call('chat.join', { room })).toMatchObject({ lastRead: 0, unread: 2 });
      const bad = await m.request('chat.forget', { room: 'no spaces' });
      expect(bad.data).toMatchObject({ code: 'validation_failed', details: [{ field: 'room' }] });
    });

    it('GET /api/users/:userId/unread answers {rooms} with the API key, 401 without', async () => {
      const bob = `bob-${rid()}`;
      const a = await connect(`alice-${rid()}`);
      const b = await connect(bob);
      const room = await roomWith(a, b, 2);
      await b.call('chat.read', { room, seq: 1 });
      const res = await api(server, 'GET', `/api/users/${bob}/unread`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        rooms: [{ room, seq: 2, lastRead: 1, unread: 1, mentions: 0 }],
      });
      expect((await api(server, 'GET', `/api/users/${bob}/unread`, undefined, null)).status).toBe(
        401,
      );
      expect((await api(server, 'GET', `/api/users/${'x'.repeat(129)}/unread`)).status).toBe(400);
    });

    it('keeps the markers across a restart', async () => {
      const bob = `bob-${rid()}`;
      const a = await connect(`alice-${rid()}`);
      const b = await connect(bob);
      const room = await roomWith(a, b, 3);
      await b.call('chat.read', { room, seq: 2 });
      await closeAll();
      await server.close();
      server = await startServer(started);
      const again = await connect(bob);
      expect(await unreadOf(again, room)).toEqual({
        room,
        seq: 3,
        lastRead: 2,
        unread: 1,
        mentions: 0,
      });
      expect(await again.call('chat.join', { room })).toMatchObject({ lastRead: 2, unread: 1 });
    }, 30_000);
  });
});
