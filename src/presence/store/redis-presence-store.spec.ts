import { Redis } from 'ioredis';
import { keysUnder, redisPrefixes } from '../../../test/support/redis-prefixes';
import { servicesGate } from '../../../test/support/services';
import { describePresenceStore } from './presence-store.contract';
import { type ConnRef, UnknownConnectionError } from './presence-store';
import { RedisPresenceStore } from './redis-presence-store';

const redis = servicesGate('redis');

redis.describe('RedisPresenceStore', () => {
  const scratch = redisPrefixes(redis.url, 'presence');

  /**
   * Only the transition counter stays (one key per cluster), and the rooms' announced leaves (`left:<room>`), which
   * expire within the hour.
   */
  async function onlyCounterAndMarkers(prefix: string): Promise<void> {
    const keys = await keysUnder(scratch.client, prefix);
    expect(keys.filter((k) => !k.startsWith(`${prefix}left:`))).toEqual([`${prefix}transitions`]);
    for (const k of keys.filter((k) => k.startsWith(`${prefix}left:`))) {
      const ttl = await scratch.client.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600_000);
    }
  }

  describePresenceStore('redis', (opts) => {
    const prefix = scratch.fresh();
    return Promise.resolve(new RedisPresenceStore(scratch.client, { prefix, ...opts }));
  });

  describe('specifics', () => {
    let prefix: string;
    let store: RedisPresenceStore;
    const conn = (connId: string, userId: string, node = 'n1'): ConnRef => ({
      connId,
      userId,
      node,
    });

    beforeEach(() => {
      prefix = scratch.fresh();
      store = new RedisPresenceStore(scratch.client, { prefix, now: () => 1_000 });
    });

    it('rejects an unknown status (it may come straight from a client frame)', async () => {
      await store.connect(conn('c', 'u'));
      await expect(store.setStatus('u', 'gone' as never)).rejects.toThrow(RangeError);
    });

    it('close() leaves the caller’s client open', async () => {
      await store.close();
      expect(await scratch.client.ping()).toBe('PONG');
    });

    it('leaves no key behind once everyone is gone', async () => {
      await store.connect({ connId: 'a1', userId: 'alice', node: 'n1', name: 'Alice' });
      await store.connect(conn('b1', 'bob', 'n2'));
      await store.join('r1', conn('a1', 'alice'));
      await store.join('r2', conn('a1', 'alice'));
      await store.join('r1', conn('b1', 'bob'));
      await store.setStatus('alice', 'busy');
      expect((await keysUnder(scratch.client, prefix)).length).toBeGreaterThan(0);
      await store.leave('r2', conn('a1', 'alice'));
      await store.disconnect(conn('a1', 'alice'));
      await store.dropNode('n2');
      await onlyCounterAndMarkers(prefix);
    });

    it('ids containing the key separator do not collide', async () => {
      await store.connect(conn('c1', 'u'));
      await store.connect(conn('c2', 'v'));
      await store.join('a', conn('c1', 'u'));
      await store.join('a:b', conn('c2', 'v'));
      expect((await store.members('a')).map((m) => m.userId)).toEqual(['u']);
      expect((await store.members('a:b')).map((m) => m.userId)).toEqual(['v']);
      expect(await store.roomCount()).toBe(2);
    });

    it('dropNode handles more connections than one script batch', async () => {
      const n = 450; // > 2 batches
      for (let i = 0; i < n; i++) {
        await store.connect(conn(`c${i}`, `u${i % 150}`, 'dead'));
        await store.join(`r${i % 7}`, conn(`c${i}`, `u${i % 150}`, 'dead'));
      }
      const vacated = await store.dropNode('dead');
      // every (room, user) pair exactly once
      const distinct = new Set(vacated.map((v) => `${v.room}/${v.userId}`));
      expect(distinct.size).toBe(vacated.length);
      expect(vacated.length).toBe(
        new Set([...Array(n).keys()].map((i) => `${i % 7}/${i % 150}`)).size,
      );
      expect(await store.roomCount()).toBe(0);
      await onlyCounterAndMarkers(prefix);
    });
  });

  describe('two instances (two nodes) sharing one Redis', () => {
    let other: Redis;
    let prefix: string;
    let n1: RedisPresenceStore;
    let n2: RedisPresenceStore;
    const onN1: ConnRef = { connId: 'u-n1', userId: 'u', node: 'n1', name: 'U' };
    const onN2: ConnRef = { connId: 'u-n2', userId: 'u', node: 'n2' };

    beforeAll(() => {
      other = new Redis(redis.url);
    });
    afterAll(async () => {
      await other.quit();
    });
    beforeEach(() => {
      let clock = 1_000;
      prefix = scratch.fresh();
      n1 = new RedisPresenceStore(scratch.client, { prefix, now: () => clock++ });
      n2 = new RedisPresenceStore(other, { prefix, now: () => clock++ });
    });

    it('one user with a connection on each node is one member with connections 2', async () => {
      await n1.connect(onN1);
      await n2.connect(onN2);
      expect((await n1.join('r', onN1)).firstForUser).toBe(true);
      const second = await n2.join('r', onN2);
      expect(second.firstForUser).toBe(false);
      expect(second.member).toEqual({
        userId: 'u',
        name: 'U',
        status: 'online',
        connections: 2,
        since: 1_000,
        v: expect.any(Number),
      });
      for (const node of [n1, n2]) {
        expect(await node.members('r')).toEqual([second.member]);
        expect(await node.roomCount()).toBe(1);
      }
      expect(await n2.setStatus('u', 'away')).toEqual(['r']);
      expect(await n1.member('r', 'u')).toMatchObject({ status: 'away' });

      // n2 died: n1 cleans up after it; the user stays present through n1.
      expect(await n1.dropNode('n2')).toEqual([]);
      expect(await n2.member('r', 'u')).toMatchObject({ connections: 1, status: 'away' });
      expect(await n1.isOnline(['u'])).toEqual({ u: true });

      // then n1 died too: the user is gone everywhere.
      expect(await n2.dropNode('n1')).toMatchObject([{ room: 'r', userId: 'u' }]);
      expect(await n1.members('r')).toEqual([]);
      expect(await n2.isOnline(['u'])).toEqual({ u: false });
      expect(await n1.roomCount()).toBe(0);
      await expect(n1.join('r', onN1)).rejects.toBeInstanceOf(UnknownConnectionError);
      await onlyCounterAndMarkers(prefix);
    });

    it('concurrent joins and leaves on both nodes report exactly one first and one last', async () => {
      const conns: [RedisPresenceStore, ConnRef][] = [];
      for (let i = 0; i < 20; i++) {
        const [store, node] = i % 2 === 0 ? [n1, 'n1'] : [n2, 'n2'];
        conns.push([store, { connId: `c${i}`, userId: 'u', node }]);
      }
      await Promise.all(conns.map(([s, c]) => s.connect(c)));

      const joins = await Promise.all(conns.map(([s, c]) => s.join('r', c)));
      expect(joins.filter((j) => j.firstForUser)).toHaveLength(1);
      expect(await n1.member('r', 'u')).toMatchObject({ connections: 20 });

      const leaves = await Promise.all(conns.map(([s, c]) => s.leave('r', c)));
      expect(leaves.filter((l) => l.lastForUser)).toHaveLength(1);
      expect(await n2.roomCount()).toBe(0);

      await Promise.all(conns.map(([s, c]) => s.join('r', c)));
      const vacated = await Promise.all([
        ...conns.map(([s, c]) => s.disconnect(c)),
        n1.dropNode('n2'),
        n2.dropNode('n1'),
      ]);
      expect(vacated.flat()).toMatchObject([{ room: 'r', userId: 'u' }]);
      expect(await n1.isOnline(['u'])).toEqual({ u: false });
    });

    it('the last two users leaving at once on two nodes, 100 rounds: one vacated, every transition id once', async () => {
      const ids = new Set<string>();
      for (let round = 0; round < 100; round++) {
        const room = `race-${round}`;
        const a: ConnRef = { connId: `a${round}`, userId: 'alice', node: 'n1' };
        const b: ConnRef = { connId: `b${round}`, userId: 'bob', node: 'n2' };
        await Promise.all([n1.connect(a), n2.connect(b)]);
        const joins = await Promise.all([n1.join(room, a), n2.join(room, b)]);
        expect(joins.filter((j) => j.transition?.room)).toHaveLength(1); // one room.occupied
        // Leaving by leave() on one node and by closing on the other, at the same moment.
        const [left, closed] = await Promise.all([n1.leave(room, a), n2.disconnect(b)]);
        const transitions = [left.transition, ...closed.map((v) => v.transition)];
        expect(transitions).toHaveLength(2);
        expect(transitions.filter((t) => t?.room)).toHaveLength(1); // one room.vacated
        for (const t of [...joins.map((j) => j.transition), ...transitions]) ids.add(t!.id);
        await n1.disconnect(a);
      }
      expect(ids.size).toBe(400); // 2 joins + 2 leaves per round, never the same id twice
    });
  });
});
