import { Inject, Injectable } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import type { Connection } from './connection';
import { SlowConsumerPolicy } from './slow-consumer.policy';

/**
 * Coalesces every frame bound for one socket within an event-loop turn into a single corked write (one writev
 * syscall instead of one per frame) and enforces the slow-consumer bound. One instance serves all connections.
 */
@Injectable()
export class OutboundWriter {
  private dirty: Connection[] = [];
  private scheduled = false;
  private readonly maxBufferedBytes: number;
  /** Frames handed to sockets, for metrics. */
  framesSent = 0;

  constructor(
    @Inject(HUBBUB_CONFIG) config: HubbubConfig,
    private readonly slowConsumers: SlowConsumerPolicy,
  ) {
    this.maxBufferedBytes = config.maxBufferedBytes;
  }

  /**
   * Queues a finished frame. The same Buffer may be queued to many connections: it is never copied. The socket is
   * read once per connection per turn (its buffered bytes, when the first frame of the turn is queued); later
   * frames of the turn touch only the Connection, which matters when one turn fans 32 publications out to the
   * same 2000 sockets.
   */
  write(conn: Connection, frame: Buffer): void {
    if (conn.closed) return;
    const first = conn.pending === null;
    // Until the flush, `pendingBytes` counts what the socket held at the turn's first frame plus what is queued.
    const buffered = first ? conn.socket.writableLength : conn.pendingBytes;
    if (buffered + frame.length > this.maxBufferedBytes) {
      this.slowConsumers.drop(conn, this);
      return;
    }
    conn.pendingBytes = buffered + frame.length;
    if (first) {
      conn.pending = [frame];
      this.dirty.push(conn);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushAll);
      }
    } else {
      conn.pending!.push(frame);
    }
  }

  /** Writes what is queued for one connection now (before a close frame, say). */
  flush(conn: Connection): void {
    const frames = conn.pending;
    if (frames === null) return;
    conn.pending = null;
    conn.pendingBytes = 0;
    const socket = conn.socket;
    if (conn.closed || socket.destroyed) return;
    this.framesSent += frames.length;
    if (frames.length === 1) {
      socket.write(frames[0]);
      return;
    }
    socket.cork();
    for (const frame of frames) socket.write(frame);
    socket.uncork();
  }

  private readonly flushAll = (): void => {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const conn of dirty) this.flush(conn);
  };

  /** Sends what is queued, then the close frame; nothing more is written to this connection. */
  close(conn: Connection, code: number, reason: string): void {
    if (conn.closed) return;
    this.flush(conn);
    conn.closed = true;
    conn.ws.close(code, reason);
  }
}
