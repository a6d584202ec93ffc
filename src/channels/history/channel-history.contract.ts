import {
  publicationCost,
  publicationJson,
  type ChannelHistory,
  type StreamPosition,
} from './channel-history';

export interface ChannelHistoryFactoryOptions {
  size: number;
  ttlMs: number;
  now: () => number;
  /** CHANNEL_HISTORY_MAX_BYTES; unset: no bound. */
  maxBytes?: number;
}

/**
 * Behaviour every ChannelHistory backend must share. Time is only ever moved through `now`, so a
 * backend must judge TTL by that clock (not by wall-clock key expiry) to pass. Channel names get a
 * per-test random prefix so backends sharing one server (Redis) need no flushing between tests.
 */
export function describeChannelHistory(
  name: string,
  factory: (opts: ChannelHistoryFactoryOptions) => Promise<ChannelHistory>,
  /** What makes this backend's offsets restart (a process restart, Redis losing its keys); returns the history to use after it. */
  loseState: (
    history: ChannelHistory,
    opts: ChannelHistoryFactoryOptions,
  ) => Promise<ChannelHistory>,
): void {
  describe(`ChannelHistory contract: ${name}`, () => {
    const SIZE = 3;
    const TTL = 1_000;
    let clock: number;
    let history: ChannelHistory;
    let ch: (suffix: string) => string;
    const opts: ChannelHistoryFactoryOptions = { size: SIZE, ttlMs: TTL, now: () => clock };

    beforeEach(async () => {
      clock = 1_000_000;
      const prefix = `t${Math.random().toString(36).slice(2)}:`;
      ch = (suffix) => prefix + suffix;
      history = await factory(opts);
    });
    afterEach(() => history.close());

    /** A position in the channel's current epoch. */
    const at = async (channel: string, offset: number): Promise<StreamPosition> => ({
      offset,
      epoch: (await history.recover(channel)).epoch,
    });
    const EPOCH = expect.any(String) as unknown as string;

    const publishN = async (channel: string, n: number) => {
      for (let i = 0; i < n; i++) await history.publish(channel, { i });
    };
    const offsets = (r: { publications: { offset: number }[] }) =>
      r.publications.map((p) => p.offset);

    it('assigns offsets 1, 2, 3 … and returns the publication', async () => {
      const a = await history.publish(ch('a'), { x: 1 }, 'u1');
      const b = await history.publish(ch('a'), 'two');
      expect(a).toEqual({ channel: ch('a'), offset: 1, data: { x: 1 }, userId: 'u1', ts: clock });
      expect(b.offset).toBe(2);
      expect(b.userId).toBeUndefined();
    });

    it('reports offset 0 for a channel never published to', async () => {
      expect(await history.recover(ch('none'))).toEqual({
        offset: 0,
        epoch: EPOCH,
        recovered: true,
        publications: [],
      });
      expect(await history.recover(ch('none'), await at(ch('none'), 0))).toEqual({
        offset: 0,
        epoch: EPOCH,
        recovered: true,
        publications: [],
      });
    });

    it('without since returns the current offset and nothing to replay', async () => {
      await publishN(ch('a'), 2);
      expect(await history.recover(ch('a'))).toEqual({
        offset: 2,
        epoch: EPOCH,
        recovered: true,
        publications: [],
      });
    });

    it('recovers the full window in ascending order', async () => {
      await publishN(ch('a'), SIZE);
      const r = await history.recover(ch('a'), await at(ch('a'), 0));
      expect(r.recovered).toBe(true);
      expect(r.offset).toBe(SIZE);
      expect(offsets(r)).toEqual([1, 2, 3]);
      expect(r.publications[0]).toMatchObject({ channel: ch('a'), data: { i: 0 } });
      expect(offsets(await history.recover(ch('a'), await at(ch('a'), 1)))).toEqual([2, 3]);
    });

    it('after size eviction: recovered false with what is retained; true when nothing evicted was needed', async () => {
      await publishN(ch('a'), SIZE + 2); // 1..5, retains 3..5
      const lost = await history.recover(ch('a'), await at(ch('a'), 1));
      expect(lost).toMatchObject({ offset: 5, recovered: false });
      expect(offsets(lost)).toEqual([3, 4, 5]);
      const ok = await history.recover(ch('a'), await at(ch('a'), 2)); // needs 3..5: all retained
      expect(ok.recovered).toBe(true);
      expect(offsets(ok)).toEqual([3, 4, 5]);
    });

    it('evicts by TTL using the injected clock', async () => {
      await publishN(ch('a'), 2); // 1, 2 at t0
      clock += TTL / 2;
      await publishN(ch('a'), 1); // 3 at t0 + TTL/2
      clock += TTL / 2 + 1; // 1, 2 expired, 3 still fresh
      const lost = await history.recover(ch('a'), await at(ch('a'), 0));
      expect(lost).toMatchObject({ offset: 3, recovered: false });
      expect(offsets(lost)).toEqual([3]);
      const ok = await history.recover(ch('a'), await at(ch('a'), 2));
      expect(ok.recovered).toBe(true);
      expect(offsets(ok)).toEqual([3]);
    });

    it('keeps the offset counter after every publication expired', async () => {
      await publishN(ch('a'), 2);
      clock += TTL * 10;
      const caughtUp = await history.recover(ch('a'), await at(ch('a'), 2));
      expect(caughtUp).toEqual({ offset: 2, epoch: EPOCH, recovered: true, publications: [] });
      const behind = await history.recover(ch('a'), await at(ch('a'), 1));
      expect(behind).toEqual({ offset: 2, epoch: EPOCH, recovered: false, publications: [] });
      expect((await history.publish(ch('a'), 'next')).offset).toBe(3);
      expect(offsets(await history.recover(ch('a'), await at(ch('a'), 2)))).toEqual([3]);
    });

    it('since equal to offset: recovered with nothing to replay', async () => {
      await publishN(ch('a'), 2);
      expect(await history.recover(ch('a'), await at(ch('a'), 2))).toEqual({
        offset: 2,
        epoch: EPOCH,
        recovered: true,
        publications: [],
      });
    });

    it('since greater than offset: not recovered (unknown stream)', async () => {
      await publishN(ch('a'), 2);
      expect(await history.recover(ch('a'), await at(ch('a'), 7))).toEqual({
        offset: 2,
        epoch: EPOCH,
        recovered: false,
        publications: [],
      });
      expect(await history.recover(ch('none'), await at(ch('none'), 1))).toEqual({
        offset: 0,
        epoch: EPOCH,
        recovered: false,
        publications: [],
      });
    });

    it('rejects a since that is not a non-negative integer, or comes without its epoch', async () => {
      await expect(history.recover(ch('a'), await at(ch('a'), -1))).rejects.toThrow(RangeError);
      await expect(history.recover(ch('a'), await at(ch('a'), 1.5))).rejects.toThrow(RangeError);
      const noEpoch = { offset: 1 } as StreamPosition;
      await expect(history.recover(ch('a'), noEpoch)).rejects.toThrow(RangeError);
    });

    it('keeps channels independent', async () => {
      await publishN(ch('a'), 3);
      await publishN(ch('b'), 1);
      expect((await history.recover(ch('a'))).offset).toBe(3);
      const b = await history.recover(ch('b'), await at(ch('b'), 0));
      expect(b.offset).toBe(1);
      expect(b.publications.map((p) => p.channel)).toEqual([ch('b')]);
      expect((await history.publish(ch('b'), 'x')).offset).toBe(2);
    });

    // Issue 19, point 3: the windows of all channels together had no bound (a publisher cycling through fresh
    // channel names kept everything for the TTL). CHANNEL_HISTORY_MAX_BYTES bounds them, oldest first.
    describe('byte budget (CHANNEL_HISTORY_MAX_BYTES)', () => {
      const DATA = { text: 'x'.repeat(100) };
      const cost = (): number => publicationCost(publicationJson(ch('a'), DATA));
      let budgeted: ChannelHistory;
      const make = async (maxBytes: number): Promise<ChannelHistory> =>
        (budgeted = await factory({ ...opts, size: 10, maxBytes }));
      afterEach(() => budgeted?.close());
      const from = async (h: ChannelHistory, channel: string, offset: number) =>
        h.recover(channel, { offset, epoch: (await h.recover(channel)).epoch });

      it('evicts the oldest publications of any channel first, and answers a since that needed them recovered false', async () => {
        const h = await make(3 * cost());
        await h.publish(ch('a'), DATA); // a1
        await h.publish(ch('b'), DATA); // b1
        await h.publish(ch('a'), DATA); // a2: three fit
        expect(offsets(await from(h, ch('a'), 0))).toEqual([1, 2]);
        await h.publish(ch('b'), DATA); // b2: a1 goes, the oldest of all
        expect(await from(h, ch('a'), 0)).toMatchObject({ offset: 2, recovered: false });
        expect(offsets(await from(h, ch('a'), 0))).toEqual([2]);
        expect(await from(h, ch('a'), 1)).toMatchObject({ recovered: true });
        expect(await from(h, ch('b'), 0)).toMatchObject({ offset: 2, recovered: true });
        expect(offsets(await from(h, ch('b'), 0))).toEqual([1, 2]);
        await h.publish(ch('c'), DATA); // b1 goes next
        expect(await from(h, ch('b'), 0)).toMatchObject({ recovered: false });
        expect(offsets(await from(h, ch('b'), 0))).toEqual([2]);
        expect(offsets(await from(h, ch('a'), 1))).toEqual([2]);
        expect(offsets(await from(h, ch('c'), 0))).toEqual([1]);
      });

      it('never lets what the size and the TTL dropped push out newer publications', async () => {
        const h = await make(3 * cost());
        budgeted = h;
        for (let i = 0; i < 12; i++) await h.publish(ch('a'), DATA); // size 10: 1 and 2 gone
        clock += TTL + 1; // all expired
        await h.publish(ch('b'), DATA);
        await h.publish(ch('c'), DATA);
        await h.publish(ch('d'), DATA); // three fit: nothing of b, c or d is evicted
        for (const c of ['b', 'c', 'd']) {
          expect(await from(h, ch(c), 0)).toMatchObject({ recovered: true, offset: 1 });
        }
      });

      it('0 keeps nothing, and offsets still count', async () => {
        const h = await make(0);
        await h.publish(ch('a'), DATA);
        expect((await h.publish(ch('a'), DATA)).offset).toBe(2);
        expect(await from(h, ch('a'), 1)).toMatchObject({
          offset: 2,
          recovered: false,
          publications: [],
        });
        expect(await from(h, ch('a'), 2)).toMatchObject({ offset: 2, recovered: true });
      });
    });

    describe('epochs', () => {
      it('gives a channel an epoch on its first subscribe and keeps it through publishes and window expiry', async () => {
        const { epoch } = await history.recover(ch('a'));
        expect(epoch).toMatch(/^[A-Za-z0-9_-]{8,}$/);
        await publishN(ch('a'), SIZE + 2);
        expect((await history.recover(ch('a'))).epoch).toBe(epoch);
        clock += TTL * 10; // every publication expired from the window
        expect((await history.recover(ch('a'))).epoch).toBe(epoch);
        expect((await history.publish(ch('a'), 'later')).offset).toBe(SIZE + 3);
        expect((await history.recover(ch('a'))).epoch).toBe(epoch);
      });

      it('gives a channel first published to the epoch a later subscribe reads', async () => {
        await publishN(ch('a'), 1);
        const first = (await history.recover(ch('a'))).epoch;
        expect((await history.recover(ch('a'))).epoch).toBe(first);
      });

      it('gives different channels different epochs', async () => {
        const a = (await history.recover(ch('a'))).epoch;
        const b = (await history.recover(ch('b'))).epoch;
        expect(a).not.toBe(b);
      });

      it('answers a position from another epoch recovered false with nothing, even one that looks recoverable', async () => {
        await publishN(ch('a'), 2);
        const r = await history.recover(ch('a'), { offset: 1, epoch: 'another-epoch' });
        expect(r).toEqual({ offset: 2, epoch: EPOCH, recovered: false, publications: [] });
        expect(r.epoch).not.toBe('another-epoch');
      });

      it('changes the epoch when offsets restart, so an old position is not taken for a current one', async () => {
        await publishN(ch('a'), 3);
        const old = await at(ch('a'), 1); // 2 and 3 would be recoverable in this epoch
        history = await loseState(history, opts);
        await publishN(ch('a'), 3); // offsets restart at 1: the old position now looks recoverable by number
        const r = await history.recover(ch('a'), old);
        expect(r.epoch).not.toBe(old.epoch);
        expect(r).toMatchObject({ offset: 3, recovered: false, publications: [] });
        expect(offsets(await history.recover(ch('a'), await at(ch('a'), 1)))).toEqual([2, 3]);
      });
    });
  });
}
