import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import { ReadDto } from './chat.dto';
import type { RoomUnread } from './read-markers';
import { ForgetDto, UnreadDto } from './unread.dto';
import { UnreadService } from './unread.service';

/** Read markers and unread counts: `chat.read`, `chat.unread`, `chat.forget`. */
@HubbubGateway()
export class UnreadGateway {
  constructor(private readonly unread: UnreadService) {}

  @SubscribeMessage('chat.read')
  async read(@Conn() conn: Connection, @MessageBody() { room, seq }: ReadDto): Promise<object> {
    await this.unread.read(conn, room, seq);
    return {};
  }

  @SubscribeMessage('chat.unread')
  async rooms(
    @Conn() conn: Connection,
    @MessageBody() _body: UnreadDto,
  ): Promise<{ rooms: RoomUnread[] }> {
    return { rooms: await this.unread.unread(conn.userId) };
  }

  @SubscribeMessage('chat.forget')
  async forget(@Conn() conn: Connection, @MessageBody() { room }: ForgetDto): Promise<object> {
    await this.unread.forget(conn.userId, room);
    return {};
  }
}
