/**
 * Slow mode: at most one message per user per room per `intervalMs`, across the cluster. Two implementations:
 * MemorySlowModeGate (one instance) and RedisSlowModeGate (cluster mode: `SET NX PX`, atomic on the shared Redis);
 * chosen in backends/backend.providers.ts.
 *
 * Guarantees: of two `take` calls for the same (room, user) within `intervalMs`, on any instances, at most one
 * returns 0; the other returns how many ms are left. `release` hands the slot back (the send failed: a request
 * that fails changes nothing). Entries live at most `intervalMs`, so what the gate holds is bounded by the users
 * who sent in slow-mode rooms in the last interval (and, in memory, by MAX_SLOW_MODE_ENTRIES).
 */
export abstract class SlowModeGate {
  /** 0 when the user may send now (the slot is taken), else the ms until they may. */
  abstract take(room: string, userId: string, intervalMs: number): Promise<number>;
  abstract release(room: string, userId: string): Promise<void>;
}

/** Slots one instance holds in memory; past it the oldest slot is dropped (its user may send a little early). */
export const MAX_SLOW_MODE_ENTRIES = 100_000;
