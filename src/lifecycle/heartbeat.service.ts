import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ClientRegistry } from '../ws/client-registry.service';

/**
 * One sweep timer for every connection, never a timer per socket. Each sweep terminates the connections that
 * showed no sign of life since the previous one (no pong, no message) and pings the rest, so a dead peer is gone
 * within 2 × HEARTBEAT_INTERVAL_MS.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly registry: ClientRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.sweep(), this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  sweep(): void {
    for (const conn of this.registry.all()) {
      if (!conn.alive) {
        // terminate() emits 'close', which runs the usual cleanup (rooms, presence, quota).
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      if (!conn.closed) conn.ws.ping();
    }
  }
}
