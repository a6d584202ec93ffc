import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** What a probe needs of one pub/sub connection; a sharded subscriber (SPUBLISH/SSUBSCRIBE) gives its own. */
export interface ProbedSubscription {
  /** The channel the connection is subscribed to for the probe (for a shard: one whose slot the shard serves). */
  readonly channel: string;
  /** Whether the subscriber connection is up as far as its client knows (the probe only judges those). */
  connected(): boolean;
  /** Sends `payload` on `channel` through a command connection: PUBLISH, or SPUBLISH for a shard. */
  publish(payload: string): Promise<unknown>;
  /** Drops the subscriber connection so that it is made again and subscribes everything anew. */
  rebuild(): void;
}

/**
 * Proves a pub/sub connection still delivers: every `intervalMs` it publishes a message to itself through Redis
 * and expects it back, through that connection, before the next round. A connection can look connected and yet
 * stop delivering (a proxy or NAT that drops its traffic, a server that forgot the subscription); a probe not back
 * in time marks it unhealthy and rebuilds it; it is healthy again once a probe comes back. The subscriber's
 * message listener hands messages on the probe channel to {@link received}. One timer per connection.
 */
export class PubSubProbe {
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  /** The payload sent and not yet back, if any. */
  private outstanding: string | undefined;
  private lost = false;
  private lastRound = Date.now();
  /** Probes that did not come back in time (each followed by a rebuild). */
  failures = 0;

  constructor(
    private readonly target: ProbedSubscription,
    private readonly intervalMs: number,
    name: string,
    /** Put before each probe's sequence number: tells apart the probes of several subscriptions on one listener. */
    private readonly prefix = '',
  ) {
    this.log = new Logger(`PubSubProbe(${name})`);
    this.timer = setInterval(() => this.round(), intervalMs);
    this.timer.unref();
  }

  /** False from a probe that did not come back until one does. */
  get healthy(): boolean {
    return !this.lost;
  }

  /** A message arrived on the probe channel. */
  received(payload: string): void {
    if (payload !== this.outstanding) return;
    this.outstanding = undefined;
    if (this.lost) this.log.log('delivering again');
    this.lost = false;
  }

  /** The connection was closed (its client makes it again): a probe sent through it is not coming back. */
  forget(): void {
    this.outstanding = undefined;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private round(): void {
    const now = Date.now();
    // A round that comes late (this process was stalled: a long GC, SIGSTOP) judges nothing: the probe's answer may
    // be waiting unread in the socket. It sends a new probe, which the next round judges.
    if (now - this.lastRound > 1.5 * this.intervalMs) this.outstanding = undefined;
    this.lastRound = now;
    if (!this.target.connected()) {
      // Its client is reconnecting (and resubscribes by itself): nothing to probe until it is back.
      this.outstanding = undefined;
      return;
    }
    if (this.outstanding !== undefined) {
      this.failures++;
      if (!this.lost)
        this.log.warn('a probe did not come back: rebuilding the subscriber connection');
      this.lost = true;
      this.outstanding = undefined;
      this.target.rebuild();
      return;
    }
    const payload = `${this.prefix}${++this.seq}`;
    this.outstanding = payload;
    // A failed PUBLISH (commands down) proves nothing about the subscriber: that round is not held against it.
    this.target.publish(payload).catch(() => {
      if (this.outstanding === payload) this.outstanding = undefined;
    });
  }
}

/** Drops an ioredis connection at once (no FIN handshake to wait for); the client reconnects and resubscribes. */
export function dropConnection(redis: Redis): void {
  redis.stream?.destroy();
}
