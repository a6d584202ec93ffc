import { createHash } from 'node:crypto';
import {
  ChannelHistory,
  computeRecovery,
  assertSince,
  newEpoch,
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
}

interface ChannelState {
  offset: number;
  /** Retained publications, ascending and contiguous; at most `size` (array + shift is fine for small windows). */
  pubs: Publication[];
  lastTs: number;
}

/** Fixed-size table (32 KiB) that outlives forgotten channels; see `floor()`. */
const FLOOR_SLOTS = 4096;

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
      state = { offset: this.floor(channel), pubs: [], lastTs: now };
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
    state.pubs.push(pub);
    if (state.pubs.length > this.size) state.pubs.shift();
    this.channels.set(channel, state);
    return Promise.resolve(pub);
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
    if (n > 0) state.pubs.splice(0, n);
  }

  private forget(channel: string, state: ChannelState): void {
    const slot = slotOf(channel);
    this.floors[slot] = Math.max(this.floors[slot], state.offset);
    this.channels.delete(channel);
  }

  /** Offset to continue from for a channel the map does not hold (0 unless its slot saw a forgotten channel). */
  private floor(channel: string): number {
    return this.floors[slotOf(channel)];
  }
}

/** FNV-1a over UTF-16 code units: cheap, stable, good enough spread for a slot index. */
function slotOf(channel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % FLOOR_SLOTS;
}
