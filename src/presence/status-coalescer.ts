/** A user's status changes are pushed at most once per room per this period. */
export const STATUS_COALESCE_MS = 250;

/**
 * Collects "user X's status changed, tell rooms R" and hands them over in one batch per period, through ONE timer
 * shared by all users (none per connection or per user). A user who changes status 35 times within a period costs
 * one push per room, with the status as it is when the batch goes out.
 */
export class StatusCoalescer {
  private pending = new Map<string, Set<string>>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;

  constructor(
    private readonly periodMs: number,
    private readonly flush: (changes: Map<string, ReadonlySet<string>>) => Promise<void>,
  ) {}

  add(userId: string, rooms: readonly string[]): void {
    if (this.stopped) return;
    let set = this.pending.get(userId);
    if (!set) this.pending.set(userId, (set = new Set()));
    for (const room of rooms) set.add(room);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private schedule(): void {
    // While a batch is being pushed the next one waits for it, so batches never overlap or reorder.
    if (this.timer || this.running || this.pending.size === 0) return;
    this.timer = setTimeout(() => void this.run(), this.periodMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.running = true;
    try {
      await this.flush(batch);
    } finally {
      this.running = false;
      if (!this.stopped) this.schedule();
    }
  }
}
