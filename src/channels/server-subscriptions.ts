import { Injectable, Logger } from '@nestjs/common';
import { ClientRegistry } from '../ws/client-registry.service';
import { PushService } from '../fanout/push.service';
import { HubbubError } from '../protocol/errors';
import { ChannelsService } from './channels.service';

interface Command {
  channel: string;
  userId: string;
}

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
  ) {
    push.onCommand('channel.subscribe', (payload) => void this.subscribeLocal(parse(payload)));
    push.onCommand('channel.unsubscribe', (payload) => this.unsubscribeLocal(parse(payload)));
  }

  subscribe(userId: string, channel: string): Promise<void> {
    return this.push.command('channel.subscribe', JSON.stringify({ channel, userId }));
  }

  unsubscribe(userId: string, channel: string): Promise<void> {
    return this.push.command('channel.unsubscribe', JSON.stringify({ channel, userId }));
  }

  private async subscribeLocal({ channel, userId }: Command): Promise<void> {
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

  private unsubscribeLocal({ channel, userId }: Command): void {
    for (const conn of [...this.registry.forUser(userId)]) {
      if (this.channels.unsubscribe(conn, channel)) {
        this.push.send(conn, 'channel.unsubscribed', { channel, reason: 'server' });
      }
    }
  }
}

const parse = (payload: string): Command => JSON.parse(payload) as Command;
