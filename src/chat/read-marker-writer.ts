import { Injectable, Logger } from '@nestjs/common';
import { type MarkerMove, ReadMarkers } from './read-markers';

/** Moves waiting at most (a store that lags far behind the appends); past it new ones are dropped, logged. */
export const MAX_QUEUED_MOVES = 100_000;

/** Moves written in one transaction at most (more wait for the next). */
const MAX_BATCH = 1000;
/**
 * How long a round waits for more moves (see ReadMarkerWriter), unless one of them may create a marker: a user's
 * first message in a room lists the room in `chat.unread` on every device at once, a later one moves the marker
 * of a room already listed within this time (until then only other users' messages before it count as unread).
 */
export const MOVE_LINGER_MS = 50;
/** Markers this instance knows to exist, at most (past it the set starts again: a first move is written at once). */
const MAX_KNOWN = 100_000;

/**
 * The marker moves that messages cause (the author's marker to their message, a dm's peer listed), written in the
 * background so that `chat.send` answers after its own commit only. A round takes the moves queued during
 * `lingerMs`, or only in the turn it starts when one of them is of a marker this instance has not written (it may
 * create it); the moves of one (user, room) in a round are one (the furthest: markers only move
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
  /** The markers (user and room) this instance wrote; a move of another one ends the round's wait. */
  private readonly known = new Set<string>();
  private urgent = false;
  private wake?: () => void;
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
      if (!this.known.has(key)) this.urgent = true;
    }
    if (this.urgent) this.wake?.();
    if (this.dropped > 0 && Date.now() - this.loggedAt >= 10_000) this.reportDropped();
    this.writing ??= this.drain();
    return promise;
  }

  private reportDropped(): void {
    this.logger.warn(`${this.dropped} read marker move(s) dropped: the store fell behind`);
    this.dropped = 0;
    this.loggedAt = Date.now();
  }

  /** The user's marker of the room was dropped (chat.forget, erasure): its next move is a first one again. */
  forgotten(userId: string, room?: string): void {
    if (room !== undefined) this.known.delete(`${userId}\n${room}`);
    else for (const key of this.known) if (key.startsWith(`${userId}\n`)) this.known.delete(key);
  }

  /** Resolves once the moves queued so far for this user are written. */
  settled(userId: string): Promise<void> {
    return this.pending.get(userId) ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0) {
      // Let the moves of the next few milliseconds join this round, or only those of this turn when one may create
      // a marker (one timer for the instance).
      if (this.lingerMs > 0 && !this.urgent) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout((this.wake = resolve), this.lingerMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      } else await Promise.resolve();
      this.urgent = false;
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
        if (this.known.size + batch.length > MAX_KNOWN) this.known.clear();
        for (const m of batch) this.known.add(`${m.userId}\n${m.room}`);
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
