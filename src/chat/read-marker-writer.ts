import { Injectable, Logger } from '@nestjs/common';
import { type MarkerMove, ReadMarkers } from './read-markers';

/** Moves written in one go at most (more wait for the next write). */
const MAX_BATCH = 1000;

/**
 * The marker moves that messages cause (the author's marker to their message, a dm's peer listed), written in the
 * background so that `chat.send` answers after its own commit only: the moves that arrive while a write is under way
 * go together in the next one (one statement, one commit), so they cost the store one write per round, not one per
 * message. Markers only move forward, so the order of the writes does not matter. Reads of a user's markers on
 * this instance first wait for that user's moves (`settled`): a user sees their own message as read.
 */
@Injectable()
export class ReadMarkerWriter {
  private readonly logger = new Logger(ReadMarkerWriter.name);
  private queue: MarkerMove[] = [];
  private writing?: Promise<void>;
  /** Per user, the write that will carry (or carries) their latest move. */
  private readonly pending = new Map<string, Promise<void>>();
  private next?: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly markers: ReadMarkers) {}

  /** Queues the moves; resolves when they are written (or failed, logged). */
  move(moves: MarkerMove[]): Promise<void> {
    this.next ??= deferred();
    const { promise } = this.next;
    for (const m of moves) {
      this.queue.push(m);
      this.pending.set(m.userId, promise);
    }
    this.writing ??= this.drain();
    return promise;
  }

  /** Resolves once the moves queued so far for this user are written. */
  settled(userId: string): Promise<void> {
    return this.pending.get(userId) ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    // Let the moves of this turn join the first write.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const done = this.queue.length === 0 ? this.next : undefined;
      if (done) this.next = undefined;
      try {
        await this.markers.advanceAll(batch);
      } catch (err) {
        this.logger.warn(`${batch.length} read marker move(s) not written: ${String(err)}`);
      }
      if (done) {
        for (const [user, p] of this.pending) if (p === done.promise) this.pending.delete(user);
        done.resolve();
      }
    }
    this.writing = undefined;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
