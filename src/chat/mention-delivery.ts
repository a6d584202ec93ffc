import { Injectable } from '@nestjs/common';
import { EventBus } from '../events/event-bus';
import type { HubbubEventMap } from '../events/event-map';
import { PushService } from '../fanout/push.service';
import { dmPeer } from '../protocol/names';
import type { StoredMessage } from '../store/message-store';

type Recipients = HubbubEventMap['chat.notify']['recipients'];

/**
 * What a new message owes the users it names, on the instance that committed it: `user.mention {room, message}` to
 * every connection of each mentioned user (joined or not, on every instance; never to the author), and `chat.notify`
 * for the mentioned users and a dm's recipient, which the webhooks turn into one `message.notify` for each of them
 * with no live connection in the cluster.
 */
@Injectable()
export class MentionDelivery {
  constructor(
    private readonly push: PushService,
    private readonly bus: EventBus,
  ) {}

  async delivered(message: StoredMessage): Promise<void> {
    const mentioned = (message.mentions ?? []).filter((u) => u !== message.userId);
    const peer = dmPeer(message.room, message.userId);
    const recipients: Recipients = [];
    if (peer !== undefined && peer !== message.userId)
      recipients.push({ userId: peer, reason: 'dm' });
    for (const userId of mentioned) {
      if (userId !== peer) recipients.push({ userId, reason: 'mention' });
    }
    const pushes = mentioned.map((userId) =>
      this.push.toUser(userId, 'user.mention', { room: message.room, message }),
    );
    await Promise.all(pushes);
    if (recipients.length > 0) await this.bus.emit('chat.notify', { message, recipients });
  }
}
