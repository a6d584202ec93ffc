/**
 * Issue 8, point 3: `presence.status` amplified (10 connections × 100 rooms × 35 frames = 305,150 pushes). Now no
 * push when the status did not change, and a user's changes are coalesced: at most one `presence.update` per room
 * per user per period (STATUS_COALESCE_MS), carrying the status as it then is.
 */
import { STATUS_COALESCE_MS } from '../../src/presence/status-coalescer';
import { trackedClients } from '../support/clients';
import { range, rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import type { Frame } from '../support/ws-client';

describe('presence.status amplification', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' });
  });
  afterAll(async () => {
    await server.close();
  });

  const { connect } = trackedClients(() => server);
  const updatesOf = (frames: Frame[], room?: string): Frame[] =>
    frames.filter(
      (f) => f.event === 'presence.update' && f.id === undefined && (!room || f.data.room === room),
    );

  it('pushes nothing when the status does not change', async () => {
    const room = `room-${rid()}`;
    const alice = await connect(`alice-${rid()}`);
    const watcher = await connect(`bob-${rid()}`);
    await alice.call('chat.join', { room });
    await watcher.call('chat.join', { room });
    for (let i = 0; i < 5; i++)
      expect(await alice.call('presence.status', { status: 'online' })).toEqual({});
    // A real change afterwards: the first update the watcher sees must be this one, nothing before it.
    await alice.call('presence.status', { status: 'busy' });
    const update = await watcher.next('presence.update');
    expect(update.data.member.status).toBe('busy');
    expect(updatesOf(watcher.frames)).toEqual([update]);
  });

  it('coalesces 35 changes of 10 connections in 20 rooms into at most one update per room per period, ending on the last status', async () => {
    const user = `alice-${rid()}`;
    const rooms = range(1, 20).map((i) => `room-${i}-${rid()}`);
    const devices = await Promise.all(range(1, 10).map(() => connect(user)));
    const watcher = await connect(`bob-${rid()}`);
    for (const room of rooms) {
      await watcher.call('chat.join', { room });
      await Promise.all(devices.map((d) => d.call('chat.join', { room })));
    }
    const mark = watcher.frames.length;
    const started = performance.now();
    const statuses = ['away', 'busy', 'online'] as const;
    // 35 status frames from each device, all at once.
    await Promise.all(
      devices.flatMap((device, d) =>
        range(0, 34).map((i) =>
          device.call('presence.status', { status: statuses[(i + d) % statuses.length] }),
        ),
      ),
    );
    await devices[0].call('presence.status', { status: 'away' });
    // The last change is pushed to every room; wait for all of them to show it.
    for (const room of rooms) {
      await watcher.wait(
        (f) =>
          f.event === 'presence.update' &&
          f.data.room === room &&
          f.data.member.userId === user &&
          f.data.member.status === 'away' &&
          watcher.frames.indexOf(f) >= mark,
        `final away in ${room}`,
      );
    }
    const pushed = updatesOf(watcher.frames.slice(mark));
    // 350 status frames (10 × 35: up to 7,000 pushes to this watcher before): one per room per period at most.
    const periods = Math.ceil((performance.now() - started) / STATUS_COALESCE_MS) + 1;
    for (const room of rooms) {
      const inRoom = updatesOf(pushed, room);
      expect(inRoom.length).toBeGreaterThanOrEqual(1);
      expect(inRoom.length).toBeLessThanOrEqual(Math.min(periods, 20));
      expect(inRoom[inRoom.length - 1].data.member.status).toBe('away');
    }
    expect((await watcher.call('presence.list', { room: rooms[0] })).members).toContainEqual(
      expect.objectContaining({ userId: user, status: 'away', connections: 10 }),
    );
  });
});
