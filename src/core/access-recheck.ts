import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { ChannelsService } from '../channels/channels.service';
import { ChatService } from '../chat/chat.service';
import { PushService } from '../fanout/push.service';
import { roomClaimDecision } from '../rooms/room-access';
import type { Connection } from '../ws/connection';
import { subscribeClaimDecision } from '../access/claim-rules';

/**
 * After `auth.refresh`: every `private:` room and channel the old claims granted and the new claims no longer
 * grant is left, with a push `chat.left` / `channel.unsubscribed {…, reason: "forbidden"}`. What the claims did
 * not grant before (a grant of the access proxy, a subscription token) is not the claims' to take back.
 */
@Injectable()
export class AccessRecheck {
  constructor(
    private readonly chat: ChatService,
    private readonly channels: ChannelsService,
    private readonly push: PushService,
  ) {}

  async afterRefresh(conn: Connection, before: Principal): Promise<void> {
    const after = conn.principal;
    const lost = (decide: (p: Principal, name: string) => string, name: string): boolean =>
      name.startsWith('private:') &&
      decide(before, name) === 'granted' &&
      decide(after, name) !== 'granted';
    await this.chat.leaveWhere(conn, (room) => lost(roomClaimDecision, room), 'forbidden');
    for (const channel of [...conn.channels]) {
      if (!lost(subscribeClaimDecision, channel)) continue;
      this.channels.unsubscribe(conn, channel);
      this.push.send(conn, 'channel.unsubscribed', { channel, reason: 'forbidden' });
    }
  }
}
