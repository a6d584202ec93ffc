import { randomBytes } from 'node:crypto';

export interface Publication {
  channel: string;
  offset: number;
  data: unknown;
  userId?: string;
  ts: number;
}

export interface Recovery {
  offset: number;
  /** Names the stream: changes whenever offsets restart, so an old position is never taken for a current one. */
  epoch: string;
  recovered: boolean;
  publications: Publication[];
}

/** Where a client was in a channel: the last offset it saw and the epoch that offset belongs to. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

export abstract class ChannelHistory {
  /** Assigns the next offset (1, 2, 3 … per channel) and keeps the publication in the recovery window. */
  abstract publish(channel: string, data: unknown, userId?: string): Promise<Publication>;
  /** offset = the channel's current (latest) offset, 0 when nothing was ever published; epoch = the stream's
   * epoch, the same before the channel's first publish as after it. A read stores nothing for a channel that has no
   * state (issue 19: subscribing to fresh names must not pile up state); the first publish creates it.
   * since undefined: publications [] and recovered true.
   * since from another epoch: recovered false, publications [] (offsets restarted; the position means nothing).
   * since given: every publication with offset > since, ascending; recovered true only when ALL of them are still retained
   *  (i.e. since >= offset, or the oldest retained publication has offset <= since + 1). When some were evicted (size or TTL)
   *  recovered is false and publications holds what is retained after since.
   *  since > offset (a client from a stream the server no longer knows) → recovered false, publications []. */
  abstract recover(channel: string, since?: StreamPosition): Promise<Recovery>;
  abstract close(): Promise<void>;
}

/**
 * Pure recovery decision shared by implementations, so every backend answers identically.
 * `retained` must be the channel's retained publications in ascending offset order (contiguous).
 */
export function computeRecovery(
  offset: number,
  epoch: string,
  retained: readonly Publication[],
  from?: StreamPosition,
): Recovery {
  const lost = { offset, epoch, recovered: false, publications: [] };
  if (from === undefined) return { offset, epoch, recovered: true, publications: [] };
  // Another epoch: offsets restarted since the client's position was taken, it means nothing here.
  if (from.epoch !== epoch) return lost;
  const since = from.offset;
  // A position ahead of us comes from a stream we no longer know (forgotten channel): the
  // client must resync, we cannot tell what it missed.
  if (since > offset) return lost;
  if (since === offset) return { offset, epoch, recovered: true, publications: [] };
  const oldest = retained[0]?.offset;
  if (oldest === undefined) return lost;
  // Offsets are contiguous, so the first publication after `since` sits at a computable index.
  const start = Math.max(0, since + 1 - oldest);
  return { offset, epoch, recovered: oldest <= since + 1, publications: retained.slice(start) };
}

/** Callers pass client-supplied positions; reject garbage instead of answering nonsense. */
export function assertSince(from: StreamPosition | undefined): void {
  if (from === undefined) return;
  if (!(Number.isSafeInteger(from.offset) && from.offset >= 0)) {
    throw new RangeError(`since must be a non-negative integer, got ${String(from.offset)}`);
  }
  if (typeof from.epoch !== 'string') throw new RangeError('since needs the epoch it belongs to');
}

/** Bytes a retained publication is counted for besides its JSON (offset, ts and bookkeeping). */
export const PUBLICATION_OVERHEAD_BYTES = 64;

/**
 * What a retained publication counts against CHANNEL_HISTORY_MAX_BYTES: the UTF-8 bytes of the JSON of its
 * channel, data and userId (what the Redis twin stores), plus {@link PUBLICATION_OVERHEAD_BYTES}. Both twins count
 * the same, so they evict the same publications.
 */
export function publicationJson(channel: string, data: unknown, userId?: string): string {
  return JSON.stringify({ channel, data, ...(userId === undefined ? {} : { userId }) });
}

export function publicationCost(json: string): number {
  return Buffer.byteLength(json) + PUBLICATION_OVERHEAD_BYTES;
}

/** A fresh random epoch: 96 bits, base64url. */
export function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}

/** Slots of the offset floor table (32 KiB in memory). */
export const FLOOR_SLOTS = 4096;

/** The slot of a channel's offset floor, in a fixed-size table (FLOOR_SLOTS) that outlives forgotten channels;
 * both twins keep their floors by it. FNV-1a over UTF-16 code units: cheap, stable, good enough spread. */
export function floorSlot(channel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % FLOOR_SLOTS;
}
