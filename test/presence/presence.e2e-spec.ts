/**
 * Presence end to end (docs/protocol.md, "Presence"): user-level membership of rooms across devices, status,
 * online queries and the heartbeat that finds dead peers, over real sockets against a real server.
 */
import WebSocket from 'ws';
import { expectNoPush, serverPings, trackedClients } from '../support/clients';
import { presentMember, rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import type { Frame, TestClient } from '../support/ws-client';

describe('presence', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const { connect } = trackedClients(() => server);

  /** A new room with an observer in it. */
  const observedRoom = async (): Promise<{ room: string; observer: TestClient }> => {
    const room = `room-${rid()}`;
    const observer = await connect(`obs-${rid()}`);
    await observer.call('chat.join', { room });
    return { room, observer };
  };

  /** A new user with two connections (devices), both joined to `room`. */
  const joinedOnTwoDevices = async (
    room: string,
  ): Promise<{ alice: string; a1: TestClient; a2: TestClient }> => {
    const alice = `alice-${rid()}`;
    const a1 = await connect(alice);
    const a2 = await connect(alice);
    await a1.call('chat.join', { room });
    await a2.call('chat.join', { room });
    return { alice, a1, a2 };
  };

  const inRoom = (room: string) => (f: Frame) => f.data?.room === room;

  describe('presence.join', () => {
    it("is pushed to the room's other members when a user's first connection joins, with the member", async () => {
      const { room, observer } = await observedRoom();
      const alice = `alice-${rid()}`;
      const a1 = await connect(alice, { name: 'Alice' });
      const mark = a1.frames.length;
      await a1.call('chat.join', { room });
      const push = await observer.next('presence.join', 5000, inRoom(room));
      expect(push.data).toEqual({
        room,
        member: presentMember({ userId: alice, name: 'Alice', status: 'online', connections: 1 }),
      });
      // The joiner is not told about itself.
      await expectNoPush(a1, mark, 'presence.join');
    });

    it("is not pushed when the same user's second device joins", async () => {
      const { room, observer } = await observedRoom();
      const alice = `alice-${rid()}`;
      const a1 = await connect(alice);
      const a2 = await connect(alice);
      await a1.call('chat.join', { room });
      await observer.next('presence.join', 5000, inRoom(room));
      const marks = [observer, a1].map((c) => c.frames.length);
      await a2.call('chat.join', { room });
      await expectNoPush(observer, marks[0], 'presence.join');
      await expectNoPush(a1, marks[1], 'presence.join');
    });

    it('is pushed per room', async () => {
      const rooms = [`room-${rid()}`, `room-${rid()}`];
      const alice = `alice-${rid()}`;
      const observer = await connect(`obs-${rid()}`);
      for (const room of rooms) await observer.call('chat.join', { room });
      const a = await connect(alice);
      for (const room of rooms) {
        await a.call('chat.join', { room });
        expect((await observer.next('presence.join', 5000, inRoom(room))).data.member.userId).toBe(
          alice,
        );
      }
    });
  });

  describe('presence.leave', () => {
    it('is not pushed when one of two devices leaves, and is pushed {room, userId} when the last one leaves', async () => {
      const { room, observer } = await observedRoom();
      const { alice, a1, a2 } = await joinedOnTwoDevices(room);

      const mark = observer.frames.length;
      await a1.call('chat.leave', { room });
      await expectNoPush(observer, mark, 'presence.leave');

      await a2.call('chat.leave', { room });
      expect((await observer.next('presence.leave', 5000, inRoom(room))).data).toEqual({
        room,
        userId: alice,
        v: expect.any(Number),
      });
    });

    it('is not pushed when one of two devices closes, and is pushed when the last one closes', async () => {
      const { room, observer } = await observedRoom();
      const { alice, a1, a2 } = await joinedOnTwoDevices(room);

      await a1.close();
      // The server has processed the close once the member count drops; nothing was pushed meanwhile.
      const mark = observer.frames.length;
      await waitFor(async () => {
        const { members } = await observer.call('presence.list', { room });
        return members.find((m: { userId: string }) => m.userId === alice)?.connections === 1;
      });
      await expectNoPush(observer, mark, 'presence.leave');

      await a2.close();
      expect((await observer.next('presence.leave', 5000, inRoom(room))).data).toEqual({
        room,
        userId: alice,
        v: expect.any(Number),
      });
    });

    it('is pushed for every room of a user whose only connection closes', async () => {
      const rooms = [`room-${rid()}`, `room-${rid()}`];
      const alice = `alice-${rid()}`;
      const observer = await connect(`obs-${rid()}`);
      const a = await connect(alice);
      for (const room of rooms) {
        await observer.call('chat.join', { room });
        await a.call('chat.join', { room });
      }
      await a.close();
      const leaves = await Promise.all(
        rooms.map((room) => observer.next('presence.leave', 5000, inRoom(room))),
      );
      expect(leaves.map((f) => f.data)).toEqual(
        rooms.map((room) => ({ room, userId: alice, v: expect.any(Number) })),
      );
    });

    it('leaving a room not joined pushes nothing', async () => {
      const { room, observer } = await observedRoom();
      const a = await connect(`alice-${rid()}`);
      const mark = observer.frames.length;
      expect(await a.call('chat.leave', { room })).toEqual({ room });
      await expectNoPush(observer, mark, 'presence.leave');
    });
  });

  describe('presence.list', () => {
    it('replies {room, members} with member connections counting devices', async () => {
      const room = `room-${rid()}`;
      const alice = `alice-${rid()}`;
      const bob = `bob-${rid()}`;
      const a1 = await connect(alice, { name: 'Alice' });
      const a2 = await connect(alice);
      const b = await connect(bob);
      await a1.call('chat.join', { room });
      await b.call('chat.join', { room });
      await a2.call('chat.join', { room });

      const list = await b.call('presence.list', { room });
      expect(list).toEqual({
        room,
        members: [
          presentMember({ userId: alice, name: 'Alice', status: 'online', connections: 2 }),
          presentMember({ userId: bob, status: 'online', connections: 1 }),
        ],
      });
      // Sorted by arrival.
      expect(list.members[0].since).toBeLessThanOrEqual(list.members[1].since);

      await a1.call('chat.leave', { room });
      const after = await b.call('presence.list', { room });
      expect(after.members.find((m: { userId: string }) => m.userId === alice).connections).toBe(1);
    });

    it('needs no join and answers an empty list for an empty room', async () => {
      const c = await connect(`alice-${rid()}`);
      const room = `room-${rid()}`;
      expect(await c.call('presence.list', { room })).toEqual({ room, members: [] });
    });

    it('is forbidden on a private room without a rooms claim', async () => {
      const room = `private:team-${rid()}`;
      const insider = await connect(`alice-${rid()}`, { rooms: ['private:team-*'] });
      await insider.call('chat.join', { room });
      expect((await insider.call('presence.list', { room })).members).toHaveLength(1);
      const outsider = await connect(`eve-${rid()}`);
      const reply = await outsider.request('presence.list', { room });
      expect(reply.data.code).toBe('forbidden');
    });

    it('refuses an invalid room name as validation_failed', async () => {
      const c = await connect(`alice-${rid()}`);
      expect((await c.request('presence.list', { room: 'a b' })).data.code).toBe(
        'validation_failed',
      );
    });
  });

  describe('presence.status', () => {
    it('replies {} and pushes presence.update {room, member} with the new status to each room of the user', async () => {
      const rooms = [`room-${rid()}`, `room-${rid()}`];
      const alice = `alice-${rid()}`;
      const o1 = await connect(`obs1-${rid()}`);
      const o2 = await connect(`obs2-${rid()}`);
      await o1.call('chat.join', { room: rooms[0] });
      await o2.call('chat.join', { room: rooms[1] });
      const a1 = await connect(alice, { name: 'Alice' });
      const a2 = await connect(alice);
      await a1.call('chat.join', { room: rooms[0] });
      await a2.call('chat.join', { room: rooms[1] });

      expect(await a1.call('presence.status', { status: 'away' })).toEqual({});
      const [u1, u2] = await Promise.all([
        o1.next('presence.update', 5000, inRoom(rooms[0])),
        o2.next('presence.update', 5000, inRoom(rooms[1])),
      ]);
      expect(u1.data).toEqual({
        room: rooms[0],
        member: presentMember({ userId: alice, name: 'Alice', status: 'away', connections: 1 }),
      });
      expect(u2.data).toMatchObject({ room: rooms[1], member: { userId: alice, status: 'away' } });

      const list = await o1.call('presence.list', { room: rooms[0] });
      expect(list.members.find((m: { userId: string }) => m.userId === alice).status).toBe('away');

      await a2.call('presence.status', { status: 'busy' });
      expect((await o1.next('presence.update', 5000, inRoom(rooms[0]))).data.member.status).toBe(
        'busy',
      );
    });

    it('does not push to rooms the user is not in', async () => {
      const { observer } = await observedRoom();
      const a = await connect(`alice-${rid()}`);
      await a.call('chat.join', { room: `room-${rid()}` });
      const mark = observer.frames.length;
      await a.call('presence.status', { status: 'busy' });
      await expectNoPush(observer, mark, 'presence.update');
    });

    it.each(['offline', '', 5])('refuses status %p as validation_failed', async (status) => {
      const c = await connect(`alice-${rid()}`);
      const reply = await c.request('presence.status', { status });
      expect(reply.data.code).toBe('validation_failed');
      expect(reply.data.details).toEqual([{ field: 'status', errors: expect.any(Array) }]);
    });
  });

  describe('presence.query', () => {
    it('replies {online} true for connected users and false for the others', async () => {
      const alice = `alice-${rid()}`;
      const bob = `bob-${rid()}`;
      const ghost = `ghost-${rid()}`;
      await connect(alice);
      const b = await connect(bob);
      // Connected counts, whether or not the user joined any room.
      expect(await b.call('presence.query', { userIds: [alice, bob, ghost] })).toEqual({
        online: { [alice]: true, [bob]: true, [ghost]: false },
      });
    });

    it('turns false once the last connection of the user closed', async () => {
      const { room, observer } = await observedRoom();
      const { alice, a1, a2 } = await joinedOnTwoDevices(room);
      await a1.close();
      expect((await observer.call('presence.query', { userIds: [alice] })).online[alice]).toBe(
        true,
      );
      await a2.close();
      await observer.next('presence.leave', 5000, inRoom(room));
      expect(await observer.call('presence.query', { userIds: [alice] })).toEqual({
        online: { [alice]: false },
      });
    });

    it('accepts 100 user ids', async () => {
      const c = await connect(`alice-${rid()}`);
      const userIds = Array.from({ length: 100 }, (_, i) => `u${i}-${rid()}`);
      const { online } = await c.call('presence.query', { userIds });
      expect(Object.keys(online)).toHaveLength(100);
    });

    it.each([
      ['an empty list', []],
      ['101 user ids', Array.from({ length: 101 }, (_, i) => `u${i}`)],
      ['an empty user id', ['']],
      ['a non-array', 'alice'],
    ])('refuses %s as validation_failed on userIds', async (_what, userIds) => {
      const c = await connect(`alice-${rid()}`);
      const reply = await c.request('presence.query', { userIds });
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('validation_failed');
      expect(reply.data.details).toEqual([{ field: 'userIds', errors: expect.any(Array) }]);
    });
  });

  describe('heartbeat', () => {
    const HEARTBEAT_MS = 200;
    const MARGIN_MS = 300;
    let hb: TestServer;
    let raw: WebSocket | undefined;

    beforeAll(async () => {
      hb = await startServer({ HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) });
    });
    afterAll(async () => {
      raw?.terminate();
      await hb?.close();
    });

    it('a peer that stops answering pings is dropped and presence.leave reaches the others within 2 × HEARTBEAT_INTERVAL_MS', async () => {
      const room = `room-${rid()}`;
      const dead = `dead-${rid()}`;
      const observer = await connect(`obs-${rid()}`, {}, hb);
      await observer.call('chat.join', { room });

      // A plain ws client that never answers pings, speaking raw frames.
      const ws = (raw = new WebSocket(hb.wsUrl, {
        autoPong: false,
        headers: { authorization: `Bearer ${await hb.token(dead)}` },
      }));
      const replies: Frame[] = [];
      const joined = new Promise<Frame>((resolve, reject) => {
        ws.on('message', (buf: Buffer) => {
          const frame = JSON.parse(buf.toString()) as Frame;
          replies.push(frame);
          if (frame.event === 'welcome')
            ws.send(JSON.stringify({ event: 'chat.join', id: 'j', data: { room } }));
          if (frame.id === 'j') resolve(frame);
        });
        ws.once('error', reject);
      });
      const pinged = new Promise<void>((resolve) => ws.once('ping', () => resolve()));
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      const joinReply = await joined;
      expect(joinReply).toMatchObject({ event: 'chat.join', data: { room } });
      // The dead peer's last sign of life was that join.
      const lastActivity = Date.now();
      expect((await observer.next('presence.join', 5000, inRoom(room))).data.member.userId).toBe(
        dead,
      );

      const leave = await observer.next(
        'presence.leave',
        2 * HEARTBEAT_MS + MARGIN_MS,
        inRoom(room),
      );
      const elapsed = Date.now() - lastActivity;
      expect(leave.data).toEqual({ room, userId: dead, v: expect.any(Number) });
      expect(elapsed).toBeLessThanOrEqual(2 * HEARTBEAT_MS + MARGIN_MS);
      await pinged; // it was pinged, and did not answer
      await closed; // and the server cut it off
      expect(await observer.call('presence.query', { userIds: [dead] })).toEqual({
        online: { [dead]: false },
      });
    });

    it('a peer that answers pings stays connected past several intervals', async () => {
      const room = `room-${rid()}`;
      const observer = await connect(`obs-${rid()}`, {}, hb);
      const alive = await connect(`alive-${rid()}`, {}, hb);
      await observer.call('chat.join', { room });
      await alive.call('chat.join', { room });
      const mark = observer.frames.length;
      // The fourth ping comes after three sweeps that found the peer alive.
      await serverPings(alive, 4, 20 * HEARTBEAT_MS);
      expect(alive.closeCode).toBeUndefined();
      await expectNoPush(observer, mark, 'presence.leave');
    });
  });
});

/** Polls a server-side condition through requests (each answer is an event; no blind sleep). */
async function waitFor(check: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) if (await check()) return;
  throw new Error('condition not reached');
}
