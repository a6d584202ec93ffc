import { Injectable, Logger } from '@nestjs/common';
import { type MarkerMove, ReadMarkers } from './read-markers';

/** Moves waiting at most (a store that lags far behind the appends); past it new ones are dropped, logged. */
export const MAX_QUEUED_MOVES = 100_000;

/** Moves written in one transaction at most (more wait for the next). */
const MAX_BATCH = 1000;
/**
 * How long the first move of a round waits for others to join it (see ReadMarkerWriter): none, so that another
 * device of the user, on another instance, lists the room of their message as soon as it can (a 50 ms linger
 * wrote fewer rows but left the room unlisted there for that long: a test across instances caught it).
 */
export const MOVE_LINGER_MS = 0;

/**
 * The marker moves that messages cause (the author's marker to their message, a dm's peer listed), written in the
 * background so that `chat.send` answers after its own commit only. A round takes the moves queued in the turn it
 * starts (or during `lingerMs`); the moves of one (user, room) in a round are one (the furthest: markers only move
 * forward), and a round's moves are one transaction; the moves that arrive while a write is under way go in the
 * next round. Reads of a user's markers on this instance first wait for that user's moves (`settled`): a user sees
 * their own message as read. One timer at most for the whole instance, none per connection. At most
 * MAX_QUEUED_MOVES (distinct user and room) wait; a move dropped past it, or lost in a crash before its round, only
 * leaves a marker behind (the next message or read moves it).
 */
@Injectable()
export class ReadMarkerWriter {
  private readonly logger = new Logger(ReadMarkerWriter.name);
  /** The round being gathered: one move per user and room. */
  private queue = new Map<string, MarkerMove>();
  private writing?: Promise<void>;
  /** Per user, the write that will carry (or carries) their latest move. */
  private readonly pending = new Map<string, Promise<void>>();
  private next?: { promise: Promise<void>; resolve: () => void };
  private dropped = 0;
  private loggedAt = 0;
  /** MAX_QUEUED_MOVES; a test lowers it. */
  maxQueued = MAX_QUEUED_MOVES;
  /** MOVE_LINGER_MS; a test changes it. */
  lingerMs = MOVE_LINGER_MS;

  constructor(private readonly markers: ReadMarkers) {}

  /** Queues the moves; resolves when they are written (or failed, logged). */
  move(moves: MarkerMove[]): Promise<void> {
    this.next ??= deferred();
    const { promise } = this.next;
    for (const m of moves) {
      const key = `${m.userId}\n${m.room}`;
      const queued = this.queue.get(key);
      if (queued) queued.seq = Math.max(queued.seq, m.seq);
      else if (this.queue.size >= this.maxQueued) {
        this.dropped++;
        continue;
      } else this.queue.set(key, { userId: m.userId, room: m.room, seq: m.seq });
      this.pending.set(m.userId, promise);
    }
    if (this.dropped > 0 && Date.now() - this.loggedAt >= 10_000) this.reportDropped();
    this.writing ??= this.drain();
    return promise;
  }

  private reportDropped(): void {
    this.logger.warn(`${this.dropped} read marker move(s) dropped: the store fell behind`);
    this.dropped = 0;
    this.loggedAt = Date.now();
  }

  /** Resolves once the moves queued so far for this user are written. */
  settled(userId: string): Promise<void> {
    return this.pending.get(userId) ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0) {
      // Let the moves of this turn (or, with a linger, of the next few milliseconds) join this round.
      if (this.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
      else await Promise.resolve();
      const batch: MarkerMove[] = [];
      for (const [key, m] of this.queue) {
        if (batch.length >= MAX_BATCH) break;
        batch.push(m);
        this.queue.delete(key);
      }
      const done = this.queue.size === 0 ? this.next : undefined;
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
