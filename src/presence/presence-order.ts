/** How long this instance remembers the newest `v` it pushed for a (room, user): one to two of these. */
export const PRESENCE_ORDER_MS = 60_000;

/**
 * The newest `v` this instance pushed for each (room, user), so it never sends an older one after it (the leave of
 * an old connection, announced after an awaited webhook write, arriving after the join of the user's new one; pushes
 * of two instances crossing in Redis). Two generations swapped by one shared timer: an entry lives one to two
 * periods after its last push, far longer than any push is in flight, and idle users cost nothing.
 */
export class PresenceOrder {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(periodMs = PRESENCE_ORDER_MS) {
    this.timer = setInterval(() => this.rotate(), periodMs);
    this.timer.unref();
  }

  /** True (and remembered) when `v` is newer than every v pushed for this (room, user) lately. */
  admit(room: string, userId: string, v: number): boolean {
    const key = `${room}\n${userId}`;
    const last = this.current.get(key) ?? this.previous.get(key);
    if (last !== undefined && v <= last) return false;
    this.current.set(key, v);
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}
