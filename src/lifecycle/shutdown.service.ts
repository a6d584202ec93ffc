import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { CloseCode } from '../protocol/errors';
import { OutboundWriter } from '../ws/outbound-writer';
import { ClientRegistry } from '../ws/client-registry.service';
import { DrainState } from '../ws/drain-state.service';

/**
 * The first half of a graceful stop, before Nest's own shutdown hooks run: readiness flips to 503, handshakes are
 * refused, every client is closed with 1001 and given a moment to acknowledge. Stores flush in their own
 * shutdown hooks afterwards (see installShutdown in bootstrap.ts for the order).
 */
@Injectable()
export class ShutdownService {
  private readonly logger = new Logger(ShutdownService.name);

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly drain: DrainState,
    private readonly registry: ClientRegistry,
    private readonly writer: OutboundWriter,
  ) {}

  /** Resolves once every connection is closed, or after `budgetMs`, terminating the stragglers. */
  async drainConnections(budgetMs = this.config.shutdownTimeoutMs / 2): Promise<void> {
    this.drain.draining = true;
    const count = this.registry.size;
    this.logger.log(`draining: closing ${count} connection(s) with ${CloseCode.GoingAway}`);
    for (const conn of this.registry.all()) {
      this.writer.close(conn, CloseCode.GoingAway, 'server shutting down');
    }
    const deadline = Date.now() + budgetMs;
    while (this.registry.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const conn of [...this.registry.all()]) conn.ws.terminate();
  }
}
