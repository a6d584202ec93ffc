import { Inject, Injectable, Optional } from '@nestjs/common';
import { Broker } from '../broker/broker';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { MessageStore } from '../store/message-store';
import { DrainState } from '../ws/drain-state.service';
import { NodeLiveness } from './node-liveness.service';

/** The components `GET /health/ready` reports, in its order; `redis` only in cluster mode. */
export type ReadinessComponent = 'instance' | 'store' | 'redis';

/** One component's answer; `message` says why it is down. */
export type ReadinessCheck =
  | { component: ReadinessComponent; up: true }
  | { component: ReadinessComponent; up: false; message: string };

/**
 * Whether this instance should receive new clients, decided in one place for `GET /health/ready` and for the
 * dashboard's view of the instance (`GET /api/nodes`):
 * - instance: down ('draining') once a shutdown begins;
 * - store: down while the message store does not answer its ping (its error's message, else 'unreachable');
 * - redis (cluster mode only): down ('unreachable') while the broker cannot reach Redis, and ('resyncing')
 *   while this instance's state in Redis is being written back (NodeLiveness.synced).
 */
@Injectable()
export class Readiness {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly drain: DrainState,
    private readonly store: MessageStore,
    private readonly broker: Broker,
    @Optional() private readonly liveness?: NodeLiveness,
  ) {}

  /** Every component's answer, in the order above. */
  async checks(): Promise<ReadinessCheck[]> {
    const checks: ReadinessCheck[] = [this.instance(), await this.storeCheck()];
    if (this.config.redis) checks.push(this.redis());
    return checks;
  }

  /** True when every component is up: what a 200 from `GET /health/ready` means. */
  async ready(): Promise<boolean> {
    return (await this.checks()).every((check) => check.up);
  }

  private instance(): ReadinessCheck {
    return this.drain.draining
      ? { component: 'instance', up: false, message: 'draining' }
      : { component: 'instance', up: true };
  }

  private async storeCheck(): Promise<ReadinessCheck> {
    try {
      await this.store.ping();
      return { component: 'store', up: true };
    } catch (err) {
      const message = err instanceof Error ? err.message : 'unreachable';
      return { component: 'store', up: false, message };
    }
  }

  private redis(): ReadinessCheck {
    if (!this.broker.isHealthy()) return { component: 'redis', up: false, message: 'unreachable' };
    // Back, but this instance's presence and counts are still being written again.
    if (this.liveness && !this.liveness.synced)
      return { component: 'redis', up: false, message: 'resyncing' };
    return { component: 'redis', up: true };
  }
}
