import { Injectable, Logger } from '@nestjs/common';
import { ClientRegistry } from '../ws/client-registry.service';
import { PushService } from '../fanout/push.service';
import { HubbubError } from '../protocol/errors';
import { ChannelsService } from './channels.service';
import type { HubbubEventMap } from '../events/event-map';
import { OnEvent } from '../events/on-event';

type Command = HubbubEventMap['command.channel.subscribe'];

/**
 * Subscriptions made by the server API: a cluster command (like a disconnect) that every instance runs on its
 * own connections of the user, pushing `channel.subscribed {channel, offset, epoch}` or
 * `channel.unsubscribed {channel, reason: "server"}` to each connection that changed.
 */
@Injectable()
export class ServerSubscriptions {
  private readonly logger = new Logger(ServerSubscriptions.name);

  constructor(
    private readonly push: PushService,
    private readonly registry: ClientRegistry,
    private readonly channels: ChannelsService,
  ) {}

  subscribe(userId: string, channel: string): Promise<void> {
    return this.push.command('command.channel.subscribe', { channel, userId });
  }

  unsubscribe(userId: string, channel: string): Promise<void> {
    return this.push.command('command.channel.unsubscribe', { channel, userId });
  }

  @OnEvent({ name: 'command.channel.subscribe' })
  async subscribeLocal({ channel, userId }: Command): Promise<void> {
    for (const conn of [...this.registry.forUser(userId)]) {
      try {
        const result = await this.channels.serverSubscribe(conn, channel);
        if (result && !conn.closed) {
          const { offset, epoch } = result;
          this.push.send(conn, 'channel.subscribed', { channel, offset, epoch });
        }
      } catch (err) {
        // limit_exceeded on this connection, or the history unreachable: the others still get it.
        const reason = err instanceof HubbubError ? err.code : String(err);
        this.logger.warn(
          `server subscribe of ${userId} to ${channel} skipped a connection: ${reason}`,
        );
      }
    }
  }

  @OnEvent({ name: 'command.channel.unsubscribe' })
  unsubscribeLocal({ channel, userId }: Command): void {
    for (const conn of [...this.registry.forUser(userId)]) {
      if (this.channels.unsubscribe(conn, channel)) {
        this.push.send(conn, 'channel.unsubscribed', { channel, reason: 'server' });
      }
    }
  }
}
