import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CloseCode, HubbubError } from '../protocol/errors';
import type { Connection } from '../ws/connection';
import { OutboundWriter } from '../ws/outbound-writer';
import { EventPriority, OnEvent } from '../events/on-event';
import type { ConnectionEvent } from '../ws/connection-events';
import { PushService } from '../fanout/push.service';

const TICK_MS = 250;

/**
 * Closes connections whose token expired (within a second of `exp`) unless `auth.refresh` moved their expiry.
 * Connections are kept in per-second buckets, so a tick looks only at the buckets that came due.
 */
@Injectable()
export class SessionExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly buckets = new Map<number, Set<Connection>>();
  private readonly bucketOf = new Map<Connection, number>();
  private lastSecond = Math.floor(Date.now() / 1000) - 1;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly push: PushService,
    private readonly writer: OutboundWriter,
  ) {}

  @OnEvent({ name: 'connection.opened', priority: EventPriority.Local })
  opened({ conn }: ConnectionEvent): void {
    this.track(conn);
  }

  @OnEvent({ name: 'connection.closed', priority: EventPriority.Local })
  closed({ conn }: ConnectionEvent): void {
    this.untrack(conn);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** (Re)schedules the connection at its principal's current expiry. */
  track(conn: Connection): void {
    this.untrack(conn);
    const second = Math.floor(conn.principal.expiresAt / 1000);
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(conn);
    this.bucketOf.set(conn, second);
  }

  untrack(conn: Connection): void {
    const second = this.bucketOf.get(conn);
    if (second === undefined) return;
    this.bucketOf.delete(conn);
    const bucket = this.buckets.get(second);
    bucket?.delete(conn);
    if (bucket?.size === 0) this.buckets.delete(second);
  }

  tick(now: number): void {
    const current = Math.floor(now / 1000);
    for (let second = this.lastSecond; second <= current; second++) {
      const bucket = this.buckets.get(second);
      if (!bucket) continue;
      for (const conn of [...bucket]) {
        if (conn.principal.expiresAt > now) continue;
        this.untrack(conn);
        this.expire(conn);
      }
    }
    // Keep the current second: connections expiring later in it are picked up by the next ticks.
    this.lastSecond = current;
  }

  private expire(conn: Connection): void {
    if (conn.closed) return;
    this.push.send(conn, 'error', new HubbubError('token_expired').toBody());
    this.writer.close(conn, CloseCode.TokenExpired, 'token expired');
  }
}
