import { Redis } from 'ioredis';
import { keysUnder, redisPrefixes } from '../../../test/support/redis-prefixes';
import { servicesGate } from '../../../test/support/services';
import { describeChannelHistory } from './channel-history.contract';
import type { StreamPosition } from './channel-history';
import { RedisChannelHistory } from './redis-channel-history';

const redis = servicesGate('redis');

redis.describe('RedisChannelHistory', () => {
  const scratch = redisPrefixes(redis.url, 'history');

  const fresh = (
    opts: { size: number; ttlMs: number; now?: () => number; maxBytes?: number },
    on = scratch.client,
  ) => {
    const prefix = scratch.fresh();
    return { prefix, history: new RedisChannelHistory(on, { prefix, ...opts }) };
  };

  const prefixOf = new WeakMap<RedisChannelHistory, string>();
  describeChannelHistory(
    'redis',
    (opts) => {
      const { prefix, history } = fresh(opts);
      prefixOf.set(history, prefix);
      return Promise.resolve(history);
    },
    // Redis flushed (or the keys evicted): the stream state is gone, the instance keeps running.
    async (history) => {
      const keys = await keysUnder(scratch.client, prefixOf.get(history as RedisChannelHistory)!);
      if (keys.length > 0) await scratch.client.del(...keys);
      return history;
    },
  );

  describe('specifics', () => {
    it('validates options', () => {
      expect(
        () => new RedisChannelHistory(scratch.client, { prefix: 'x:', size: -1, ttlMs: 1 }),
      ).toThrow(RangeError);
      expect(
        () => new RedisChannelHistory(scratch.client, { prefix: 'x:', size: 1, ttlMs: 0 }),
      ).toThrow(RangeError);
      expect(
        () => new RedisChannelHistory(scratch.client, { prefix: 'x:', size: 1, ttlMs: Infinity }),
      ).toThrow(RangeError);
    });

    it('close() leaves the caller’s client open', async () => {
      await fresh({ size: 1, ttlMs: 1_000 }).history.close();
      expect(await scratch.client.ping()).toBe('PONG');
    });

    it('size 0 retains nothing but still counts offsets', async () => {
      const { history } = fresh({ size: 0, ttlMs: 1_000 });
      await history.publish('c', 1);
      expect((await history.publish('c', 2)).offset).toBe(2);
      const { epoch } = await history.recover('c');
      expect(await history.recover('c', { offset: 1, epoch })).toEqual({
        offset: 2,
        epoch,
        recovered: false,
        publications: [],
      });
    });

    it('round-trips data through JSON and keeps the list bounded in Redis', async () => {
      const { prefix, history } = fresh({ size: 2, ttlMs: 60_000 });
      const data = { text: 'héllo, "world" 🎉', n: [1, 2.5, null], nested: { ok: true } };
      await history.publish('c:with:colons', 'old');
      const pub = await history.publish('c:with:colons', data, 'u1');
      await history.publish('c:with:colons', 'last');
      expect(Object.isFrozen(pub)).toBe(true);
      const { epoch } = await history.recover('c:with:colons');
      const r = await history.recover('c:with:colons', { offset: 1, epoch });
      expect(r.recovered).toBe(true);
      expect(r.publications).toEqual([pub, expect.objectContaining({ offset: 3, data: 'last' })]);
      expect(await scratch.client.llen(`${prefix}pubs:c:with:colons`)).toBe(2);
      // The list expires with the window; the offset counter lives much longer.
      const listTtl = await scratch.client.pttl(`${prefix}pubs:c:with:colons`);
      const offsetTtl = await scratch.client.pttl(`${prefix}stream:c:with:colons`);
      expect(await scratch.client.hgetall(`${prefix}stream:c:with:colons`)).toEqual({
        offset: '3',
        epoch,
      });
      expect(listTtl).toBeGreaterThan(0);
      expect(listTtl).toBeLessThanOrEqual(60_000);
      expect(offsetTtl).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000 - 60_000);
    });

    it('an expired list (idle channel) still answers from the offset counter', async () => {
      const { prefix, history } = fresh({ size: 3, ttlMs: 1_000 });
      await history.publish('c', 1);
      await history.publish('c', 2);
      const { epoch } = await history.recover('c');
      await scratch.client.del(`${prefix}pubs:c`); // what PEXPIRE does after ttlMs of silence
      expect(await history.recover('c', { offset: 2, epoch })).toEqual({
        offset: 2,
        epoch,
        recovered: true,
        publications: [],
      });
      expect((await history.recover('c', { offset: 1, epoch })).recovered).toBe(false);
      expect((await history.publish('c', 3)).offset).toBe(3);
    });

    it('a lost stream hash: offsets go on from the floor in the same epoch, and the list left from it is dropped', async () => {
      const { prefix, history } = fresh({ size: 10, ttlMs: 60_000 });
      for (let i = 0; i < 4; i++) await history.publish('c', i);
      const old = (await history.recover('c')).epoch;
      await scratch.client.del(`${prefix}stream:c`); // evicted alone, the list survived
      // Read without the hash: the offset the channel reached, in its epoch.
      expect(await history.recover('c', { offset: 4, epoch: old })).toMatchObject({
        offset: 4,
        recovered: true,
      });
      const pub = await history.publish('c', 'new stream');
      expect(pub.offset).toBe(5);
      const r = await history.recover('c', { offset: 0, epoch: old });
      expect(r.epoch).toBe(old);
      expect(r.recovered).toBe(false);
      expect(r.publications.map((p) => p.data)).toEqual(['new stream']);
    });

    // Issue 19, point 4: a subscribe (recover) used to create the stream hash with a 24 h TTL, so subscribing to
    // fresh names piled up keys with no publish at all.
    it('a read of a channel nobody published to writes nothing for it; its first publish creates the stream in the epoch read', async () => {
      const { prefix, history } = fresh({ size: 10, ttlMs: 60_000 });
      const before = await history.recover('quiet');
      await history.recover('quiet', { offset: 0, epoch: before.epoch });
      expect(await keysUnder(scratch.client, prefix)).toEqual([`${prefix}meta`]);
      await history.publish('quiet', 'first');
      expect((await keysUnder(scratch.client, prefix)).sort()).toEqual(
        [`${prefix}budget`, `${prefix}meta`, `${prefix}pubs:quiet`, `${prefix}stream:quiet`].sort(),
      );
      const after = await history.recover('quiet', { offset: 0, epoch: before.epoch });
      expect(after).toMatchObject({ epoch: before.epoch, offset: 1, recovered: true });
    });

    it('keeps the byte count equal to what the lists hold, whatever evicted it', async () => {
      const max = 2_000;
      const { prefix, history } = fresh({ size: 3, ttlMs: 60_000, maxBytes: max });
      for (let i = 0; i < 60; i++) await history.publish(`c${i % 7}`, 'z'.repeat(i * 3));
      const lists = (await keysUnder(scratch.client, `${prefix}pubs:`)).sort();
      let held = 0;
      let entries = 0;
      for (const key of lists) {
        for (const entry of await scratch.client.lrange(key, 0, -1)) {
          const rest = entry.replace(/^\{"ts":[^,]+,"offset":\d+,/, '{');
          held += Buffer.byteLength(rest) + 64;
          entries++;
        }
      }
      expect(Number(await scratch.client.hget(`${prefix}meta`, 'bytes'))).toBe(held);
      expect(held).toBeLessThanOrEqual(max);
      expect(await scratch.client.zcard(`${prefix}budget`)).toBe(entries);
    });

    it('two instances creating the same stream at once agree on one epoch', async () => {
      const { prefix, history: a } = fresh({ size: 10, ttlMs: 60_000 });
      const b = new RedisChannelHistory(scratch.client, { prefix, size: 10, ttlMs: 60_000 });
      const answers = await Promise.all([
        a.recover('c'),
        b.recover('c'),
        a.publish('c', 1).then(() => a.recover('c')),
        b.publish('c', 2).then(() => b.recover('c')),
      ]);
      expect(new Set(answers.map((r) => r.epoch)).size).toBe(1);
    });
  });

  describe('two instances sharing one Redis', () => {
    let other: Redis;

    beforeAll(() => {
      other = new Redis(redis.url);
    });
    afterAll(async () => {
      await other.quit();
    });

    it('hand out distinct consecutive offsets and recover each other’s publications', async () => {
      const clock = () => 1_000_000;
      const { prefix, history: a } = fresh({ size: 100, ttlMs: 60_000, now: clock });
      const b = new RedisChannelHistory(other, { prefix, size: 100, ttlMs: 60_000, now: clock });

      const pubs = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? a : b).publish('shared', { i }, i % 2 === 0 ? 'on-a' : 'on-b'),
        ),
      );
      const offsets = pubs.map((p) => p.offset).sort((x, y) => x - y);
      expect(offsets).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

      for (const [reader, writtenByOther] of [
        [a, 'on-b'],
        [b, 'on-a'],
      ] as const) {
        const from: StreamPosition = { offset: 0, epoch: (await reader.recover('shared')).epoch };
        const r = await reader.recover('shared', from);
        expect(r).toMatchObject({ offset: 40, recovered: true });
        expect(r.publications.map((p) => p.offset)).toEqual(offsets);
        // the same publication objects the publishers returned, whoever published them
        const byOffset = new Map(pubs.map((p) => [p.offset, p]));
        for (const p of r.publications) expect(p).toEqual(byOffset.get(p.offset));
        expect(r.publications.filter((p) => p.userId === writtenByOther)).toHaveLength(20);
      }
    });
  });
});
