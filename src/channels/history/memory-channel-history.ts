import { createHash } from 'node:crypto';
import {
  ChannelHistory,
  computeRecovery,
  assertSince,
  newEpoch,
  FLOOR_SLOTS,
  floorSlot,
  publicationCost,
  publicationJson,
  type Publication,
  type Recovery,
  type StreamPosition,
} from './channel-history';

export interface MemoryChannelHistoryOptions {
  /** Max publications retained per channel. */
  size: number;
  /** Publications are retained while now - ts < ttlMs. */
  ttlMs: number;
  now?: () => number;
  /** When set, idle channels are forgotten on a timer of this period (the server sets it; tests call prune()). */
  pruneIntervalMs?: number;
  /** Bytes (see publicationCost) all channels' windows hold together; past it the oldest go first. Default: no bound. */
  maxBytes?: number;
}

interface ChannelState {
  name: string;
  offset: number;
  /** Retained publications, ascending and contiguous; at most `size` (array + shift is fine for small windows). */
  pubs: Publication[];
  /** publicationCost of each of `pubs`, same order. */
  costs: number[];
  lastTs: number;
}

/**
 * Single-process history. Idle channels are forgotten entirely so memory stays bounded by the channels
 * published to within the last ttlMs (each holding at most `size` publications) plus a fixed table.
 *
 * Why forgetting is safe: when a channel is dropped its last offset is folded (max) into a hashed slot
 * of `floors`. A channel the map does not know reports that slot value as its offset and continues
 * counting from it. Without a hash collision this is exactly the old counter, so a caught-up client
 * (since == offset) still recovers and offsets never go back. With a collision the floor is higher than
 * the client's position, it sees since < offset with nothing retained → recovered false → it resyncs.
 * Either way a revived channel can never reuse offsets an old client already holds, which a plain
 * "restart at 1" would (the client would silently skip the new stream's first publications).
 * Cost: a brand-new channel sharing a slot with a forgotten one starts above 1 (offsets stay +1).
 *
 * Epochs: offsets only restart with the process (or close()), so each channel's epoch is derived from a random
 * seed drawn at construction and the channel name: distinct per channel, stable for the life of the instance
 * (forgotten channels included), new after a restart. Nothing per channel is stored for it.
 */
export class MemoryChannelHistory extends ChannelHistory {
  /** Iteration order = last publish ascending (publish re-inserts), which keeps prune() cheap. */
  private readonly channels = new Map<string, ChannelState>();
  /** Every publication retained, in publish order, as (channel state, offset): the byte budget evicts from the head.
   * Entries whose publication left otherwise (size, TTL, forgotten channel) stay until passed or compacted. */
  private order: { state: ChannelState; offset: number }[] = [];
  private orderHead = 0;
  /** Bytes and number of the publications retained. */
  private bytes = 0;
  private held = 0;
  private readonly maxBytes: number;
  private readonly floors = new Float64Array(FLOOR_SLOTS);
  private readonly size: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private pruneTimer?: NodeJS.Timeout;
  private seed = newEpoch();

  constructor(opts: MemoryChannelHistoryOptions) {
    super();
    if (!Number.isSafeInteger(opts.size) || opts.size < 0)
      throw new RangeError('size must be an integer >= 0');
    if (!(opts.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.size = opts.size;
    this.ttlMs = opts.ttlMs;
    this.now = opts.now ?? Date.now;
    this.maxBytes = opts.maxBytes ?? Infinity;
    if (!(this.maxBytes >= 0)) throw new RangeError('maxBytes must be >= 0');
    if (opts.pruneIntervalMs !== undefined) {
      // Forgets idle channels so memory stays bounded by the recovery window; one timer per history.
      this.pruneTimer = setInterval(() => this.prune(), opts.pruneIntervalMs);
      this.pruneTimer.unref();
    }
  }

  publish(channel: string, data: unknown, userId?: string): Promise<Publication> {
    const now = this.now();
    let state = this.channels.get(channel);
    if (state) {
      this.expire(state, now);
      this.channels.delete(channel); // re-inserted below to move it to the end of the map
    } else {
      state = { name: channel, offset: this.floor(channel), pubs: [], costs: [], lastTs: now };
    }
    const offset = state.offset + 1;
    // Frozen: the same object is handed to every recovering client.
    const pub: Publication = Object.freeze({
      channel,
      offset,
      data,
      ts: now,
      ...(userId === undefined ? {} : { userId }),
    });
    state.offset = offset;
    state.lastTs = now;
    const cost = publicationCost(publicationJson(channel, data, userId));
    state.pubs.push(pub);
    state.costs.push(cost);
    this.bytes += cost;
    this.held++;
    this.order.push({ state, offset });
    if (state.pubs.length > this.size) this.drop(state, 1);
    this.channels.set(channel, state);
    this.evictOverBudget();
    return Promise.resolve(pub);
  }

  /** Bytes the windows hold together (publicationCost of each publication retained). */
  retainedBytes(): number {
    return this.bytes;
  }

  recover(channel: string, since?: StreamPosition): Promise<Recovery> {
    // The executor turns a bad `since` into a rejection, like an async backend would.
    return new Promise((resolve) => {
      assertSince(since);
      const state = this.live(channel, this.now());
      const offset = state?.offset ?? this.floor(channel);
      resolve(computeRecovery(offset, this.epoch(channel), state?.pubs ?? [], since));
    });
  }

  /** The channel's epoch (see the class comment). */
  epoch(channel: string): string {
    return createHash('sha256').update(this.seed).update(channel).digest('base64url').slice(0, 16);
  }

  /**
   * Forgets channels whose newest publication has expired; runs every `pruneIntervalMs` when that is set.
   * Stops at the first channel still within the TTL (map order = last publish), so a call costs
   * O(forgotten + 1); expired publications of still-active channels are trimmed lazily on access
   * (they are bounded by `size` anyway). Returns how many channels were forgotten.
   */
  prune(): number {
    const now = this.now();
    let forgotten = 0;
    for (const [channel, state] of this.channels) {
      if (now - state.lastTs < this.ttlMs) break;
      this.forget(channel, state);
      forgotten++;
    }
    return forgotten;
  }

  close(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.channels.clear();
    this.order = [];
    this.orderHead = 0;
    this.bytes = this.held = 0;
    this.floors.fill(0);
    this.seed = newEpoch(); // offsets restart: so do epochs
    return Promise.resolve();
  }

  /** The channel's state with expired publications dropped; forgets it when nothing is left. */
  private live(channel: string, now: number): ChannelState | undefined {
    const state = this.channels.get(channel);
    if (!state) return undefined;
    this.expire(state, now);
    if (state.pubs.length > 0) return state;
    this.forget(channel, state);
    return undefined;
  }

  private expire(state: ChannelState, now: number): void {
    let n = 0;
    while (n < state.pubs.length && now - state.pubs[n].ts >= this.ttlMs) n++;
    if (n > 0) this.drop(state, n);
  }

  /** Drops a channel's `n` oldest publications from its window and from the byte count. */
  private drop(state: ChannelState, n: number): void {
    state.pubs.splice(0, n);
    for (const cost of state.costs.splice(0, n)) this.bytes -= cost;
    this.held -= n;
  }

  /**
   * Over CHANNEL_HISTORY_MAX_BYTES: the oldest publications, whatever their channel, leave until the windows fit.
   * A `since` that needed one of them then answers recovered false (computeRecovery sees the gap).
   */
  private evictOverBudget(): void {
    while (this.bytes > this.maxBytes && this.orderHead < this.order.length) {
      const { state, offset } = this.order[this.orderHead++];
      if (state.pubs.length > 0 && state.pubs[0].offset <= offset) this.drop(state, 1);
    }
    // Passed and stale entries are cut away once they outnumber the live ones.
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
    if (this.order.length - this.orderHead > 2 * this.held + 1024) {
      this.order = this.order
        .slice(this.orderHead)
        .filter(({ state, offset }) => state.pubs.length > 0 && state.pubs[0].offset <= offset);
      this.orderHead = 0;
    }
  }

  private forget(channel: string, state: ChannelState): void {
    const slot = floorSlot(channel);
    this.floors[slot] = Math.max(this.floors[slot], state.offset);
    this.channels.delete(channel);
    // Its entries in `order` may outlive it: emptied, they hold nothing and count for nothing.
    this.drop(state, state.pubs.length);
  }

  /** Offset to continue from for a channel the map does not hold (0 unless its slot saw a forgotten channel). */
  private floor(channel: string): number {
    return this.floors[floorSlot(channel)];
  }
}
