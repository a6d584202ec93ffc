import { Injectable } from '@nestjs/common';
import { isAdmin } from '../auth/principal';
import { ChatService } from '../chat/chat.service';
import type { HubbubEventMap } from '../events/event-map';
import { EventPriority, OnEvent } from '../events/on-event';
import { ClientRegistry } from '../ws/client-registry.service';

/**
 * Runs on every instance when a kick or a ban is recorded (the cluster command `command.room.moderated`, after
 * RoomRules dropped its cached entry): each local connection of the user joined to the room leaves it, with the
 * push `chat.left {room, reason: "kicked" | "banned"}`; the connections stay open. A ban spares connections whose
 * token has `admin`.
 */
@Injectable()
export class ModerationEnforcer {
  constructor(
    private readonly registry: ClientRegistry,
    private readonly chat: ChatService,
  ) {}

  @OnEvent({ name: 'command.room.moderated', priority: EventPriority.Default })
  async enforce({ room, userId, action }: HubbubEventMap['command.room.moderated']): Promise<void> {
    if (action !== 'kick' && action !== 'ban') return;
    const reason = action === 'kick' ? 'kicked' : 'banned';
    for (const conn of [...this.registry.forUser(userId)]) {
      if (action === 'ban' && isAdmin(conn.principal)) continue;
      await this.chat.leaveWhere(conn, (r) => r === room, reason);
    }
  }
}
