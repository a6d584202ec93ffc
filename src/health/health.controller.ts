import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Broker } from '../broker/broker';
import { NodeLiveness } from '../lifecycle/node-liveness.service';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { DrainState } from '../ws/drain-state.service';
import { MessageStore } from '../store/message-store';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly drain: DrainState,
    private readonly store: MessageStore,
    private readonly broker: Broker,
    @Optional() private readonly liveness?: NodeLiveness,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: store (and Redis in cluster mode) answer, and the instance is not draining. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => {
        const check = this.indicators.check('instance');
        return this.drain.draining ? check.down({ message: 'draining' }) : check.up();
      },
      async () => {
        const check = this.indicators.check('store');
        try {
          await this.store.ping();
          return check.up();
        } catch (err) {
          return check.down({ message: err instanceof Error ? err.message : 'unreachable' });
        }
      },
      ...(this.config.redis
        ? [
            () => {
              const check = this.indicators.check('redis');
              if (!this.broker.isHealthy()) return check.down({ message: 'unreachable' });
              // Back, but this instance's presence and counts are still being written again.
              if (this.liveness && !this.liveness.synced)
                return check.down({ message: 'resyncing' });
              return check.up();
            },
          ]
        : []),
    ]);
  }
}
