import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy } from '../access/access-policy';
import { excludedByUserLimit } from '../access/claim-rules';
import { SubscriptionTokens } from '../access/subscription-tokens';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { PushService } from '../fanout/push.service';
import { assertSubscriptionSlot, SubscriptionIndex } from '../fanout/subscription-index';
import { HubbubError } from '../protocol/errors';
import { fitReply } from '../protocol/reply-budget';
import { channelTopic, TOPIC_PREFIX } from '../protocol/topics';
import type { Connection } from '../ws/connection';
import { ConnectionEvents } from '../ws/connection-events';
import {
  ChannelHistory,
  type Publication,
  type Recovery,
  type StreamPosition,
} from './history/channel-history';
import { ChannelSubscribers } from './subscribers/channel-subscribers';

/** `more` is set when publications were left out to keep the reply under HISTORY_REPLY_MAX_BYTES. */
export type SubscribeResult = Recovery & { channel: string; more?: true };

/** Live pub/sub: at most once delivery, plus a recovery window for clients that reconnect with `since`. */
@Injectable()
export class ChannelsService {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly history: ChannelHistory,
    private readonly index: SubscriptionIndex,
    private readonly push: PushService,
    private readonly policy: AccessPolicy,
    private readonly tokens: SubscriptionTokens,
    private readonly subscribers: ChannelSubscribers,
    events: ConnectionEvents,
  ) {
    events.onClose((conn) => {
      for (const channel of conn.channels) this.drop(conn, channel);
      conn.channels.clear();
    });
  }

  /**
   * A client's subscribe: a channel limited to other users is refused; a subscription token, when given, must
   * grant this channel to this user; else the access policy decides. Refusals are `forbidden`.
   */
  async subscribe(
    conn: Connection,
    channel: string,
    since?: StreamPosition,
    token?: string,
  ): Promise<SubscribeResult> {
    if (excludedByUserLimit(conn.userId, channel)) {
      throw new HubbubError('forbidden', `Channel "${channel}" is limited to other users`);
    }
    if (token !== undefined) {
      await this.tokens.assertGrants(token, conn.userId, channel);
    } else {
      const answer = this.policy.canSubscribe(conn.principal, channel);
      if (!(typeof answer === 'boolean' ? answer : await answer)) {
        throw new HubbubError('forbidden', `No subscribe right on channel "${channel}"`);
      }
    }
    const added = this.add(conn, channel);
    try {
      return await this.recover(channel, since);
    } catch (err) {
      // A failed request changes no state: the subscription made for it is undone.
      if (added) this.unsubscribe(conn, channel);
      throw err;
    }
  }

  /** A subscribe by the server API: no access check. Returns undefined when the connection already had it. */
  async serverSubscribe(conn: Connection, channel: string): Promise<SubscribeResult | undefined> {
    if (conn.channels.has(channel)) return undefined;
    this.add(conn, channel);
    return this.recover(channel);
  }

  /** Returns false when the connection was not subscribed. */
  unsubscribe(conn: Connection, channel: string): boolean {
    if (!conn.channels.delete(channel)) return false;
    this.drop(conn, channel);
    return true;
  }

  /** `from` is the publishing connection, or undefined for the server API. */
  async publish(channel: string, data: unknown, from?: Connection): Promise<Publication> {
    if (from) {
      const answer = this.policy.canPublish(from.principal, channel, data);
      if (!(typeof answer === 'boolean' ? answer : await answer)) {
        throw new HubbubError('forbidden', `No publish right on channel "${channel}"`);
      }
    }
    const publication = await this.history.publish(channel, data, from?.userId);
    await this.push.toChannel(channel, 'channel.message', publication, from);
    return publication;
  }

  /** The channel's current offset and epoch (a read: it stores nothing for a channel never published to). */
  async state(channel: string): Promise<{ offset: number; epoch: string }> {
    const { offset, epoch } = await this.history.recover(channel);
    return { offset, epoch };
  }

  count(): number {
    return this.index.count(TOPIC_PREFIX.channel);
  }

  /** Returns true when this call subscribed the connection (false: it already was, or it closed). */
  private add(conn: Connection, channel: string): boolean {
    // The connection may have closed while the policy was asked: nothing to add it to.
    if (conn.closed || conn.channels.has(channel)) return false;
    assertSubscriptionSlot(conn, this.config.maxSubscriptions);
    conn.channels.add(channel);
    // Live delivery starts before the window is read, so nothing published in between is missed
    // (a publication may then arrive twice; its offset tells).
    this.index.add(topic(channel), conn);
    this.subscribers.add(channel);
    return true;
  }

  private drop(conn: Connection, channel: string): void {
    if (this.index.remove(topic(channel), conn)) this.subscribers.remove(channel);
  }

  /** The recovery, its publications cut to HISTORY_REPLY_MAX_BYTES: the client subscribes again from the last one. */
  private async recover(channel: string, since?: StreamPosition): Promise<SubscribeResult> {
    const recovery = await this.history.recover(channel, since);
    const page = fitReply(recovery.publications, this.config.historyReplyMaxBytes, 'first');
    if (!page.more) return { channel, ...recovery };
    return { channel, ...recovery, publications: page.items, more: true };
  }
}

const topic = channelTopic;
