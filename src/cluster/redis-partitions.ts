import calculateSlot from 'cluster-key-slot';

/** Slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;
/** Most partitions REDIS_PUBSUB_PARTITIONS may ask for (each is one sharded channel per instance). */
export const MAX_PARTITIONS = 1024;

/**
 * The fixed partitions of a Redis Cluster deployment (REDIS_PUBSUB_PARTITIONS): every topic, channel history and
 * route hashes to one of them, and each partition's keys and sharded channels carry its hash tag, so they share one
 * slot: a script or pipeline of one partition stays inside one slot, wherever the cluster puts it.
 *
 * The tags are chosen so the partitions' slots spread evenly over the slot space: partition p's tag hashes to the
 * slot in the middle of the p-th of `count` equal stretches of the 16384 slots. A master serving a share s of the
 * slots (`redis-cli --cluster create` and rebalance give each master one contiguous range of equal size) then serves
 * s × count partitions, give or take one; a tag picked by hashing `p` instead (CRC16 of "0".."63") leaves some
 * masters with many partitions and others idle (centrifuge issue 554 measured half the shards idle). The tags depend
 * only on `count`, so every instance computes the same ones, and a reshard moves partitions without renaming them.
 */
export class RedisPartitions {
  /** Tag (without braces) of each partition, by index. */
  readonly tags: readonly string[];
  /** Slot of each partition's tag. */
  readonly slots: readonly number[];

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS)
      throw new RangeError(`partitions must be an integer in 1..${MAX_PARTITIONS}`);
    const targets = Array.from({ length: count }, (_, p) =>
      Math.floor(((2 * p + 1) * CLUSTER_SLOTS) / (2 * count)),
    );
    const wanted = new Map<number, number[]>();
    targets.forEach((slot, p) => wanted.set(slot, [...(wanted.get(slot) ?? []), p]));
    const tags: string[] = new Array<string>(count);
    let missing = count;
    // Short tags `h<n>` (base 36), the first whose slot is a wanted one: about 16384 × ln(count) CRC16s, once.
    for (let n = 0; missing > 0; n++) {
      const tag = `h${n.toString(36)}`;
      const partitions = wanted.get(calculateSlot(tag));
      if (!partitions) continue;
      for (const p of partitions.splice(0)) {
        tags[p] = tag;
        missing--;
      }
    }
    this.tags = tags;
    this.slots = targets;
  }

  /** The partition of a name (topic, channel): its CRC16 modulo the count, as stable as the name. */
  of(name: string): number {
    return calculateSlot(name) % this.count;
  }

  /** `{tag}` of a partition, to put in a key or channel name. */
  hashTag(partition: number): string {
    return `{${this.tags[partition]}}`;
  }
}
