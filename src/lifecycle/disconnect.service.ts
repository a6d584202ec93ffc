import { Injectable } from '@nestjs/common';
import { CloseCode } from '../protocol/errors';
import { OutboundWriter } from '../ws/outbound-writer';
import { ClientRegistry } from '../ws/client-registry.service';
import { PushService } from '../fanout/push.service';
import type { HubbubEventMap } from '../events/event-map';
import { OnEvent } from '../events/on-event';

/** Closes every connection of a user with 4403, on every instance (a cluster command through the broker). */
@Injectable()
export class DisconnectService {
  constructor(
    private readonly push: PushService,
    private readonly registry: ClientRegistry,
    private readonly writer: OutboundWriter,
  ) {}

  disconnectUser(userId: string): Promise<void> {
    return this.push.command('command.disconnect', { userId });
  }

  @OnEvent({ name: 'command.disconnect' })
  disconnectLocal({ userId }: HubbubEventMap['command.disconnect']): void {
    for (const conn of [...this.registry.forUser(userId)]) {
      this.writer.close(conn, CloseCode.Disconnected, 'disconnected by the server');
    }
  }
}
