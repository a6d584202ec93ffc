import type { StreamPosition } from './channel-history';
import { MemoryChannelHistory } from './memory-channel-history';
import { describeChannelHistory } from './channel-history.contract';

describeChannelHistory(
  'memory',
  (opts) => Promise.resolve(new MemoryChannelHistory(opts)),
  // A restart: the process (and its history) is gone, a new one starts from nothing.
  async (old, opts) => {
    await old.close();
    return new MemoryChannelHistory(opts);
  },
);

describe('MemoryChannelHistory', () => {
  const TTL = 1_000;
  let clock: number;
  let history: MemoryChannelHistory;

  beforeEach(() => {
    clock = 0;
    history = new MemoryChannelHistory({ size: 2, ttlMs: TTL, now: () => clock });
  });
  const at = (channel: string, offset: number): StreamPosition => ({
    offset,
    epoch: history.epoch(channel),
  });

  it('validates options', () => {
    expect(() => new MemoryChannelHistory({ size: -1, ttlMs: 1 })).toThrow(RangeError);
    expect(() => new MemoryChannelHistory({ size: 1, ttlMs: 0 })).toThrow(RangeError);
  });

  it('prune() forgets only channels whose newest publication expired', async () => {
    await history.publish('old', 1);
    clock += TTL / 2;
    await history.publish('fresh', 1);
    clock += TTL / 2; // 'old' is exactly TTL old → expired; 'fresh' is not
    expect(history.prune()).toBe(1);
    expect(history.prune()).toBe(0);
    expect((await history.recover('fresh', at('fresh', 0))).publications).toHaveLength(1);
  });

  it('a forgotten channel keeps counting from its last offset', async () => {
    for (let i = 0; i < 5; i++) await history.publish('c', i);
    clock += TTL;
    expect(history.prune()).toBe(1);
    // A caught-up client still recovers; a lagging one is told to resync.
    expect(await history.recover('c', at('c', 5))).toEqual({
      offset: 5,
      epoch: history.epoch('c'),
      recovered: true,
      publications: [],
    });
    expect((await history.recover('c', at('c', 3))).recovered).toBe(false);
    expect((await history.publish('c', 'again')).offset).toBe(6);
  });

  it('a new channel sharing a slot with a forgotten one never reuses its offsets', async () => {
    for (let i = 0; i < 5; i++) await history.publish('c', i);
    clock += TTL;
    history.prune();
    // Find some other name hashed into the same slot (4096 slots: a few thousand tries at most).
    let other = '';
    for (let i = 0; !other; i++) {
      if ((await history.recover(`n${i}`)).offset === 5) other = `n${i}`;
    }
    const pub = await history.publish(other, 'x');
    expect(pub.offset).toBe(6);
    // A fresh subscriber got offset 5 from recover(), so it is still fully recovered.
    expect((await history.recover(other, at(other, 5))).recovered).toBe(true);
  });

  it('lazily drops expired publications on access', async () => {
    await history.publish('c', 1);
    clock += TTL;
    expect(await history.recover('c', at('c', 0))).toEqual({
      offset: 1,
      epoch: history.epoch('c'),
      recovered: false,
      publications: [],
    });
    expect(history.prune()).toBe(0); // already forgotten by the access above
  });

  it('close() drops everything, and offsets restarting get a new epoch', async () => {
    await history.publish('c', 1);
    const before = history.epoch('c');
    await history.close();
    expect((await history.recover('c')).offset).toBe(0);
    expect(history.epoch('c')).not.toBe(before);
  });

  it('keeps a forgotten channel in its epoch: a caught-up client still recovers', async () => {
    await history.publish('c', 1);
    const position = at('c', 1);
    clock += TTL;
    expect(history.prune()).toBe(1);
    expect((await history.recover('c', position)).recovered).toBe(true);
  });
});
