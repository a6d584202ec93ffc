import { type ConnRef, type PresenceStore, UnknownConnectionError } from './presence-store';

export interface PresenceStoreFactoryOptions {
  now: () => number;
}

/**
 * Behaviour every PresenceStore backend must share. The factory must return an empty, isolated store
 * (e.g. a fresh key prefix for Redis): roomCount() and dropNode() see the whole store.
 * `since` must come from the injected clock.
 */
export function describePresenceStore(
  name: string,
  factory: (opts: PresenceStoreFactoryOptions) => Promise<PresenceStore>,
): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let clock: number;
    let store: PresenceStore;

    const conn = (connId: string, userId: string, node = 'n1', name?: string): ConnRef => ({
      connId,
      userId,
      node,
      ...(name === undefined ? {} : { name }),
    });
    const alice1 = conn('a1', 'alice', 'n1', 'Alice');
    const alice2 = conn('a2', 'alice', 'n2');
    const bob = conn('b1', 'bob', 'n2');

    beforeEach(async () => {
      clock = 1_000;
      store = await factory({ now: () => clock });
      for (const c of [alice1, alice2, bob]) await store.connect(c);
    });
    afterEach(() => store.close());

    it('first join creates the member', async () => {
      const r = await store.join('r', alice1);
      expect(r).toMatchObject({
        firstForUser: true,
        member: { userId: 'alice', name: 'Alice', status: 'online', connections: 1, since: 1_000 },
      });
      expect(await store.members('r')).toEqual([r.member]);
      expect(await store.roomCount()).toBe(1);
    });

    it('a second device joins the same member', async () => {
      await store.join('r', alice1);
      clock += 50;
      const r = await store.join('r', alice2);
      expect(r.firstForUser).toBe(false);
      expect(r.member).toMatchObject({ userId: 'alice', connections: 2, since: 1_000 });
    });

    it('joining twice with the same connection is idempotent', async () => {
      await store.join('r', alice1);
      const again = await store.join('r', alice1);
      expect(again.firstForUser).toBe(false);
      expect(again.member.connections).toBe(1);
      expect(await store.leave('r', alice1)).toMatchObject({ lastForUser: true });
    });

    it('join of a connection that is not connected is refused', async () => {
      await expect(store.join('r', conn('x', 'xavier'))).rejects.toBeInstanceOf(
        UnknownConnectionError,
      );
      await store.disconnect(bob);
      await expect(store.join('r', bob)).rejects.toBeInstanceOf(UnknownConnectionError);
      expect(await store.roomCount()).toBe(0);
    });

    it('leaving with one device keeps the member, the last device removes it', async () => {
      await store.join('r', alice1);
      await store.join('r', alice2);
      expect(await store.leave('r', alice1)).toMatchObject({ lastForUser: false });
      expect(await store.member('r', 'alice')).toMatchObject({ connections: 1 });
      expect(await store.leave('r', alice2)).toMatchObject({ lastForUser: true });
      expect(await store.member('r', 'alice')).toBeUndefined();
      expect(await store.members('r')).toEqual([]);
      expect(await store.roomCount()).toBe(0);
    });

    it('leaving a room the connection is not in reports nothing', async () => {
      expect(await store.leave('r', alice1)).toMatchObject({ lastForUser: false });
      await store.join('r', alice1);
      expect(await store.leave('r', alice2)).toMatchObject({ lastForUser: false });
      expect(await store.member('r', 'alice')).toMatchObject({ connections: 1 });
    });

    it('since restarts after the user left the room entirely', async () => {
      await store.join('r', alice1);
      await store.leave('r', alice1);
      clock = 5_000;
      expect((await store.join('r', alice1)).member.since).toBe(5_000);
    });

    it('disconnect leaves every room and reports only rooms the user left entirely', async () => {
      await store.join('shared', alice1);
      await store.join('shared', alice2);
      await store.join('solo', alice1);
      await store.join('solo', bob);
      expect(await store.disconnect(alice1)).toMatchObject([{ room: 'solo', userId: 'alice' }]);
      expect(await store.member('shared', 'alice')).toMatchObject({ connections: 1 });
      expect((await store.members('solo')).map((m) => m.userId)).toEqual(['bob']);
      expect(await store.disconnect(alice1)).toEqual([]); // already gone
      expect(await store.isOnline(['alice'])).toEqual({ alice: true });
    });

    it('setStatus applies to all devices and returns the rooms the user is in', async () => {
      await store.join('r2', alice2);
      await store.join('r1', alice1);
      await store.join('r1', bob);
      expect((await store.setStatus('alice', 'away')).sort()).toEqual(['r1', 'r2']);
      expect(await store.member('r1', 'alice')).toMatchObject({ status: 'away' });
      expect(await store.member('r2', 'alice')).toMatchObject({ status: 'away' });
      expect(await store.member('r1', 'bob')).toMatchObject({ status: 'online' });
    });

    it('setStatus to the status the user already has changes nothing and returns no room', async () => {
      await store.join('r1', alice1);
      expect(await store.setStatus('alice', 'online')).toEqual([]);
      expect(await store.setStatus('alice', 'away')).toEqual(['r1']);
      expect(await store.setStatus('alice', 'away')).toEqual([]);
      expect(await store.member('r1', 'alice')).toMatchObject({ status: 'away' });
    });

    it('status resets once the user has no connection left', async () => {
      await store.setStatus('alice', 'busy');
      await store.disconnect(alice1);
      await store.disconnect(alice2);
      expect(await store.setStatus('alice', 'away')).toEqual([]); // offline: ignored
      await store.connect(alice2);
      expect((await store.join('r', alice2)).member.status).toBe('online');
    });

    it('name comes from the first connection that has one', async () => {
      expect((await store.join('r', alice2)).member.name).toBe('Alice');
      expect((await store.join('r', bob)).member.name).toBeUndefined();
      await store.connect(conn('b2', 'bob', 'n1', 'Bob'));
      expect((await store.member('r', 'bob'))?.name).toBe('Bob');
    });

    it('isOnline counts connected users, rooms or not', async () => {
      expect(await store.isOnline(['alice', 'bob', 'carol'])).toEqual({
        alice: true,
        bob: true,
        carol: false,
      });
      await store.disconnect(bob);
      expect(await store.isOnline(['bob'])).toEqual({ bob: false });
    });

    it('dropNode disconnects every connection of that node', async () => {
      await store.join('r', alice1); // n1
      await store.join('r', alice2); // n2
      await store.join('r', bob); // n2
      await store.join('other', alice2); // n2
      const vacated = await store.dropNode('n2');
      const key = (v: { room: string; userId: string }) => `${v.room}/${v.userId}`;
      expect(vacated.map(key).sort()).toEqual(['other/alice', 'r/bob']);
      expect((await store.members('r')).map((m) => m.userId)).toEqual(['alice']);
      expect(await store.isOnline(['alice', 'bob'])).toEqual({ alice: true, bob: false });
      expect(await store.roomCount()).toBe(1);
      expect(await store.dropNode('n2')).toEqual([]);
    });

    it('roomNames lists the rooms with a member, and memberCounts counts users, not connections', async () => {
      await store.join('r', alice1);
      await store.join('r', alice2);
      await store.join('r', bob);
      await store.join('other', bob);
      expect((await store.roomNames()).sort()).toEqual(['other', 'r']);
      expect(await store.memberCounts(['r', 'other', 'empty'])).toEqual([2, 1, 0]);
      await store.disconnect(bob);
      expect(await store.roomNames()).toEqual(['r']);
      expect(await store.memberCounts(['r', 'other'])).toEqual([1, 0]);
    });

    it('members are sorted by since, then userId', async () => {
      await store.connect(conn('c1', 'carol'));
      clock = 2_000;
      await store.join('r', bob);
      await store.join('r', alice1);
      clock = 1_500;
      await store.join('r', conn('c1', 'carol'));
      expect((await store.members('r')).map((m) => m.userId)).toEqual(['carol', 'alice', 'bob']);
    });

    it('v grows with each presence change of a (room, user): join, status, leave, join again', async () => {
      const joined = (await store.join('r', alice1)).member.v;
      expect((await store.join('r', alice2)).member.v).toBe(joined); // a second device: no change
      await store.setStatus('alice', 'away');
      const away = (await store.member('r', 'alice'))!.v;
      expect(away).toBeGreaterThan(joined);
      await store.leave('r', alice1);
      const left = await store.leave('r', alice2);
      expect(left).toMatchObject({ lastForUser: true });
      expect(left.v).toBeGreaterThan(away);
      const again = (await store.join('r', alice1)).member.v;
      expect(again).toBeGreaterThan(left.v!);
      const [gone] = await store.disconnect(alice1);
      expect(gone.v).toBeGreaterThan(again);
      await store.join('r', bob);
      const [dropped] = await store.dropNode('n2');
      expect(dropped.v).toBeGreaterThan(gone.v);
    });

    it('rejoin announces a user again only after their leave was announced', async () => {
      await store.join('r', alice1);
      await store.dropNode('n1', { silent: true }); // a resync's drop: the leave is not announced (yet)
      await store.connect(alice1);
      expect(await store.rejoin('r', alice1)).toMatchObject({ announce: false });
      await store.leave('r', alice1); // announced
      expect(await store.rejoin('r', alice1)).toMatchObject({ announce: true });
      expect(await store.rejoin('r', alice2)).toMatchObject({ announce: false }); // not the first
      await store.dropNode('n1'); // a reap: announced
      await store.dropNode('n2');
      await store.connect(alice2);
      expect(await store.rejoin('r', alice2)).toMatchObject({ announce: true });
      await store.leave('r', alice2);
      await store.join('r', alice2); // announced by join itself: forgets the leave
      await store.dropNode('n2', { silent: true });
      await store.connect(alice2);
      expect(await store.rejoin('r', alice2)).toMatchObject({ announce: false });
      // A join that was never recorded (the store was unreachable) is announced when it is the first.
      expect(await store.rejoin('fresh', alice2, true)).toMatchObject({ announce: true });
      await store.connect(alice1);
      expect(await store.rejoin('fresh', alice1, true)).toMatchObject({ announce: false });
    });

    it('confirmLeft announces a silently dropped user once, unless they are back', async () => {
      await store.join('r', alice1);
      await store.join('s', alice1);
      const [dropped] = await store.dropNode('n1', { silent: true });
      const confirmed = await store.confirmLeft('r', 'alice');
      expect(confirmed?.vacated).toBe(true);
      expect(confirmed!.v).toBeGreaterThan(dropped.v);
      expect(await store.confirmLeft('r', 'alice')).toBeUndefined(); // announced already
      await store.connect(alice1);
      expect(await store.rejoin('r', alice1)).toMatchObject({ announce: true });
      await store.join('s', alice2); // back in s before the confirmation
      expect(await store.confirmLeft('s', 'alice')).toBeUndefined();
    });
  });
}
