import { Injectable, Logger } from '@nestjs/common';
import type { Connection } from './connection';
import { loggableError } from '../common/log-error';

type Listener = (conn: Connection) => void | Promise<void>;

/**
 * Typed lifecycle hooks for services that keep per-connection state (rooms, presence, channels).
 * Listeners run in registration order; a failing listener is logged and does not stop the others.
 */
@Injectable()
export class ConnectionEvents {
  private readonly logger = new Logger(ConnectionEvents.name);
  private readonly openListeners: Listener[] = [];
  private readonly closeListeners: Listener[] = [];

  onOpen(listener: Listener): void {
    this.openListeners.push(listener);
  }

  onClose(listener: Listener): void {
    this.closeListeners.push(listener);
  }

  async opened(conn: Connection): Promise<void> {
    await this.run(this.openListeners, conn);
  }

  async closed(conn: Connection): Promise<void> {
    await this.run(this.closeListeners, conn);
  }

  private async run(listeners: Listener[], conn: Connection): Promise<void> {
    for (const listener of listeners) {
      try {
        await listener(conn);
      } catch (err) {
        this.logger.error(loggableError(err));
      }
    }
  }
}
