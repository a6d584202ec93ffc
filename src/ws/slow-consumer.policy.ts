import { Injectable, Logger } from '@nestjs/common';
import { CloseCode } from '../protocol/errors';
import type { Connection } from './connection';

/** How long a slow consumer that was sent a close frame may keep its socket without reading. */
export const SLOW_CONSUMER_GRACE_MS = 5000;

/** What the OutboundWriter needs to close a connection politely: flush what is queued, then the close frame. */
export interface Closer {
  close(conn: Connection, code: number, reason: string): void;
}

/**
 * A connection whose queued outbound bytes passed MAX_BUFFERED_BYTES: it gets the frames already queued, then
 * close 1013, and is cut off if it still reads nothing for SLOW_CONSUMER_GRACE_MS.
 */
@Injectable()
export class SlowConsumerPolicy {
  private readonly log = new Logger('SlowConsumer');
  /** Connections closed as slow consumers, for metrics. */
  closed = 0;

  drop(conn: Connection, closer: Closer): void {
    if (conn.closed) return;
    this.closed++;
    this.log.warn(`closing slow consumer ${conn.id} (user ${conn.userId})`);
    closer.close(conn, CloseCode.TryAgainLater, 'slow consumer');
    setTimeout(terminate, SLOW_CONSUMER_GRACE_MS, conn).unref();
  }
}

function terminate(conn: Connection): void {
  conn.ws.terminate();
}
