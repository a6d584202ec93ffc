import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Readiness } from '../lifecycle/readiness.service';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: store (and Redis in cluster mode) answer, and the instance is not draining. */
  @Get('ready')
  @HealthCheck()
  async ready() {
    const checks = await this.readiness.checks();
    return this.health.check(
      checks.map((result) => () => {
        const check = this.indicators.check(result.component);
        return result.up ? check.up() : check.down({ message: result.message });
      }),
    );
  }
}
