import { Inject, Injectable } from '@nestjs/common';
import { anyGlobMatches } from '../auth/glob';
import { isAdmin } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ConnectionEvents } from '../ws/connection-events';
import { PushService } from '../fanout/push.service';
import { assertSubscriptionSlot, SubscriptionIndex } from '../fanout/subscription-index';
import { HubbubError } from '../protocol/errors';
import { channelTopic, TOPIC_PREFIX } from '../protocol/topics';
import type { Connection } from '../ws/connection';
import { ChannelHistory, type Publication, type Recovery } from './history/channel-history';

/** Live pub/sub: at most once delivery, plus a recovery window for clients that reconnect with `since`. */
@Injectable()
export class ChannelsService {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly history: ChannelHistory,
    private readonly index: SubscriptionIndex,
    private readonly push: PushService,
    events: ConnectionEvents,
  ) {
    events.onClose((conn) => {
      for (const channel of conn.channels) this.index.remove(topic(channel), conn);
      conn.channels.clear();
    });
  }

  async subscribe(
    conn: Connection,
    channel: string,
    since?: number,
  ): Promise<Recovery & { channel: string }> {
    if (!conn.channels.has(channel)) {
      assertSubscriptionSlot(conn, this.config.maxSubscriptions);
      conn.channels.add(channel);
      // Live delivery starts before the window is read, so nothing published in between is missed
      // (a publication may then arrive twice; its offset tells).
      this.index.add(topic(channel), conn);
    }
    const recovery = await this.history.recover(channel, since);
    return { channel, ...recovery };
  }

  unsubscribe(conn: Connection, channel: string): void {
    if (conn.channels.delete(channel)) this.index.remove(topic(channel), conn);
  }

  /** `from` is the publishing connection, or undefined for the server API. */
  async publish(channel: string, data: unknown, from?: Connection): Promise<Publication> {
    if (from && !isAdmin(from.principal) && !anyGlobMatches(from.principal.publish, channel)) {
      throw new HubbubError('forbidden', `No publish right on channel "${channel}"`);
    }
    const publication = await this.history.publish(channel, data, from?.userId);
    await this.push.toChannel(channel, 'channel.message', publication, from);
    return publication;
  }

  count(): number {
    return this.index.count(TOPIC_PREFIX.channel);
  }
}

const topic = channelTopic;
