import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { BearerKey } from '../common/bearer-key';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';

/** `GET /metrics` is open while METRICS_TOKEN is unset, else needs `Authorization: Bearer <METRICS_TOKEN>` (401). */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: BearerKey;

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    this.expected =
      config.metricsToken === undefined ? undefined : new BearerKey(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (
      !this.expected.matches(context.switchToHttp().getRequest<Request>().headers.authorization)
    ) {
      throw new UnauthorizedException('Invalid metrics token');
    }
    return true;
  }
}
