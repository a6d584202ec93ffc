import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CloseCode, HubbubError } from '../protocol/errors';
import type { Connection } from '../ws/connection';
import { OutboundWriter } from '../ws/outbound-writer';
import { EventBus } from '../events/event-bus';
import { EventPriority, OnEvent } from '../events/on-event';
import type { ConnectionEvent } from '../ws/connection-events';
import { PushService } from '../fanout/push.service';
import { ExpiryBuckets } from './expiry-buckets';

const TICK_MS = 250;

/**
 * Closes connections whose token expired (within a second of `exp`) unless `auth.refresh` moved their expiry.
 * Connections are kept in per-second buckets, so a tick looks only at the buckets that came due. Other expiries
 * (subscription tokens) ride on the same tick through the `expiry.tick` event: one timer for the whole process.
 */
@Injectable()
export class SessionExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly connections = new ExpiryBuckets<Connection>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly push: PushService,
    private readonly writer: OutboundWriter,
    private readonly bus: EventBus,
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
    this.connections.track(conn, conn.principal.expiresAt);
  }

  untrack(conn: Connection): void {
    this.connections.untrack(conn);
  }

  tick(now: number): void {
    this.connections.sweep(now, expiryOf, (conn) => this.expire(conn));
    void this.bus.emit('expiry.tick', { now });
  }

  private expire(conn: Connection): void {
    if (conn.closed) return;
    this.push.send(conn, 'error', new HubbubError('token_expired').toBody());
    this.writer.close(conn, CloseCode.TokenExpired, 'token expired');
  }
}

const expiryOf = (conn: Connection): number => conn.principal.expiresAt;
