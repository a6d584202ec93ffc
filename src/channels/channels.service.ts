import { Inject, Injectable } from '@nestjs/common';
import { AccessCheck } from '../access/access-check';
import { SubscriptionTokens } from '../access/subscription-tokens';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { PushService } from '../fanout/push.service';
import { HubbubError } from '../protocol/errors';
import { assertSubscriptionSlot, SubscriptionIndex } from '../fanout/subscription-index';
import { fitReply } from '../protocol/reply-budget';
import { channelTopic, TOPIC_PREFIX } from '../protocol/topics';
import type { Connection } from '../ws/connection';
import type { HubbubEventMap } from '../events/event-map';
import { EventPriority, OnEvent } from '../events/on-event';
import type { ConnectionEvent } from '../ws/connection-events';
import {
  ChannelHistory,
  type Publication,
  type Recovery,
  type StreamPosition,
} from './history/channel-history';
import { ChannelSubscribers } from './subscribers/channel-subscribers';
import { TokenGrants } from './token-grants';

/** `more` is set when publications were left out to keep the reply under HISTORY_REPLY_MAX_BYTES. */
export type SubscribeResult = Recovery & { channel: string; more?: true };

/** Live pub/sub: at most once delivery, plus a recovery window for clients that reconnect with `since`. */
@Injectable()
export class ChannelsService {
  private readonly grants = new TokenGrants();

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly history: ChannelHistory,
    private readonly index: SubscriptionIndex,
    private readonly push: PushService,
    private readonly access: AccessCheck,
    private readonly tokens: SubscriptionTokens,
    private readonly subscribers: ChannelSubscribers,
  ) {}

  /** A subscription token's `exp` is noticed on the session-expiry tick, like a connection token's. */
  @OnEvent({ name: 'expiry.tick' })
  sweepTokens({ now }: HubbubEventMap['expiry.tick']): void {
    this.grants.sweep(now, (grant) => this.tokenExpired(grant));
  }

  @OnEvent({ name: 'connection.closed', priority: EventPriority.Local })
  closed({ conn }: ConnectionEvent): void {
    for (const channel of conn.channels) this.drop(conn, channel);
    conn.channels.clear();
    for (const channel of [...(conn.tokenChannels?.keys() ?? [])])
      this.grants.remove(conn, channel);
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
    let expiresAt: number | undefined;
    if (token !== undefined) {
      this.access.assertNotExcluded(conn.principal, channel);
      expiresAt = await this.tokens.assertGrants(token, conn.userId, channel);
    } else {
      // Asked again when auth.refresh replaced the claims while the policy decided (as chat.join does).
      let principal;
      do {
        principal = conn.principal;
        await this.access.assertSubscribe(principal, channel);
      } while (principal !== conn.principal);
    }
    const added = this.add(conn, channel);
    let result: SubscribeResult;
    try {
      result = await this.recover(channel, since);
    } catch (err) {
      // A failed request changes no state: the subscription made for it is undone.
      if (added) this.unsubscribe(conn, channel);
      throw err;
    }
    // Made with a token, the subscription ends at its `exp`; granted otherwise, it no longer does.
    if (conn.channels.has(channel)) this.grants.set(conn, channel, expiresAt);
    return result;
  }

  /**
   * `channel.refresh`: a newer subscription token for a channel the connection subscribed to with one; the
   * subscription now ends at its `exp`. Refused (`forbidden`) like the subscribe's token; `not_found` when the
   * connection is not subscribed to the channel.
   */
  async refresh(
    conn: Connection,
    channel: string,
    token: string,
  ): Promise<{ channel: string; exp: number }> {
    this.access.assertNotExcluded(conn.principal, channel);
    const expiresAt = await this.tokens.assertGrants(token, conn.userId, channel);
    if (!conn.channels.has(channel))
      throw new HubbubError('not_found', `Not subscribed to channel "${channel}"`);
    // A subscription the claims or the policy granted does not end with a token: nothing to move.
    if (this.grants.has(conn, channel)) this.grants.set(conn, channel, expiresAt);
    return { channel, exp: Math.floor(expiresAt / 1000) };
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
    this.grants.remove(conn, channel);
    return true;
  }

  /** The subscription token's `exp` passed with no `channel.refresh` before it: the subscription ends. */
  private tokenExpired({ conn, channel }: { conn: Connection; channel: string }): void {
    if (conn.closed || !this.unsubscribe(conn, channel)) return;
    this.push.send(conn, 'channel.unsubscribed', { channel, reason: 'token_expired' });
  }

  /** `from` is the publishing connection, or undefined for the server API. */
  async publish(channel: string, data: unknown, from?: Connection): Promise<Publication> {
    if (from) await this.access.assertPublish(from.principal, channel, data);
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
