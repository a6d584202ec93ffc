import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { AccessCheck } from '../access/access-check';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import { PresenceListDto, PresenceQueryDto, PresenceStatusDto } from './presence.dto';
import { PresenceService } from './presence.service';
import type { Member } from './store/presence-store';

@HubbubGateway()
export class PresenceGateway {
  constructor(
    private readonly presence: PresenceService,
    private readonly access: AccessCheck,
  ) {}

  @SubscribeMessage('presence.list')
  async list(
    @Conn() conn: Connection,
    @MessageBody() { room }: PresenceListDto,
  ): Promise<{ room: string; members: Member[] }> {
    // The join right, as the access policy (a team's own, the access proxy) decides it: chat.join's path.
    await this.access.assertRoom(conn.principal, room);
    return { room, members: await this.presence.members(room) };
  }

  @SubscribeMessage('presence.status')
  async status(
    @Conn() conn: Connection,
    @MessageBody() { status }: PresenceStatusDto,
  ): Promise<object> {
    await this.presence.setStatus(conn, status);
    return {};
  }

  @SubscribeMessage('presence.query')
  async query(
    @MessageBody() { userIds }: PresenceQueryDto,
  ): Promise<{ online: Record<string, boolean> }> {
    return { online: await this.presence.isOnline(userIds) };
  }
}
