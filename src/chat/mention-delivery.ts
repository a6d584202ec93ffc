import { Injectable } from '@nestjs/common';
import { EventBus } from '../events/event-bus';
import type { HubbubEventMap } from '../events/event-map';
import { OnEvent } from '../events/on-event';
import { PushService } from '../fanout/push.service';
import { dmPeer } from '../protocol/names';
import type { StoredMessage } from '../store/message-store';

type Recipients = HubbubEventMap['chat.notify']['recipients'];

/**
 * What a message owes the users it names, on the instance that committed it: `user.mention {room, message}` to
 * every connection of each mentioned user (joined or not, on every instance; never to the author), and `chat.notify`
 * for the mentioned users and a dm's recipient, which the webhooks turn into one `message.notify` for each of them
 * with no live connection in the cluster. An edit delivers to the users it mentions anew.
 */
@Injectable()
export class MentionDelivery {
  constructor(
    private readonly push: PushService,
    private readonly bus: EventBus,
  ) {}

  /** A new message (not an idempotent repeat). */
  delivered(message: StoredMessage): Promise<void> {
    const peer = dmPeer(message.room, message.userId);
    return this.deliver(message, message.mentions ?? [], peer);
  }

  /** An edit: only the users the new text mentions and the old one did not. */
  @OnEvent({ name: 'chat.updated' })
  async edited({ message, previous }: HubbubEventMap['chat.updated']): Promise<void> {
    const before = new Set(previous.mentions ?? []);
    const added = (message.mentions ?? []).filter((u) => !before.has(u));
    if (added.length > 0) await this.deliver(message, added);
  }

  private async deliver(message: StoredMessage, mentions: string[], peer?: string): Promise<void> {
    const mentioned = mentions.filter((u) => u !== message.userId);
    const recipients: Recipients = [];
    if (peer !== undefined && peer !== message.userId)
      recipients.push({ userId: peer, reason: 'dm' });
    for (const userId of mentioned) {
      if (userId !== peer) recipients.push({ userId, reason: 'mention' });
    }
    await Promise.all(
      mentioned.map((userId) =>
        this.push.toUser(userId, 'user.mention', { room: message.room, message }),
      ),
    );
    if (recipients.length > 0) await this.bus.emit('chat.notify', { message, recipients });
  }
}
