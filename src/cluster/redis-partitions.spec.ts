import calculateSlot from 'cluster-key-slot';
import { CLUSTER_SLOTS, RedisPartitions } from './redis-partitions';

/** The slot ranges `redis-cli --cluster create` gives `masters` masters: equal contiguous shares. */
function evenRanges(masters: number): [number, number][] {
  const per = CLUSTER_SLOTS / masters;
  return Array.from({ length: masters }, (_, i) => [
    Math.round(i * per),
    Math.round((i + 1) * per) - 1,
  ]);
}

describe('RedisPartitions', () => {
  it("gives each partition a distinct tag whose CRC16 slot is its partition's slot", () => {
    const partitions = new RedisPartitions(64);
    expect(new Set(partitions.tags).size).toBe(64);
    partitions.tags.forEach((tag, p) => expect(calculateSlot(tag)).toBe(partitions.slots[p]));
    expect(calculateSlot(`hubbub:${partitions.hashTag(5)}:route:room:x`)).toBe(partitions.slots[5]);
  });

  it.each([
    [64, 3],
    [64, 5],
    [64, 10],
    [128, 6],
    [16, 16],
  ])(
    'spreads %i partitions over %i masters with equal ranges, one apart at most',
    (count, masters) => {
      const partitions = new RedisPartitions(count);
      const shares = evenRanges(masters).map(
        ([from, to]) => partitions.slots.filter((s) => s >= from && s <= to).length,
      );
      expect(shares.reduce((a, b) => a + b, 0)).toBe(count);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    },
  );

  it('puts a name in the same partition every time, and names over every partition', () => {
    const partitions = new RedisPartitions(64);
    expect(partitions.of('room:lobby')).toBe(partitions.of('room:lobby'));
    const used = new Set(Array.from({ length: 2000 }, (_, i) => partitions.of(`chan:feed-${i}`)));
    expect(used.size).toBe(64);
  });

  it.each([0, 1025, 1.5])('refuses %p partitions', (count) => {
    expect(() => new RedisPartitions(count)).toThrow(RangeError);
  });
});
