import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { StoredMessage } from '../store/message-store';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import { DmDto, HistoryDto, JoinDto, RoomDto, SendDto, TypingDto } from './chat.dto';
import { ChatService, type HistoryResult, type JoinResult } from './chat.service';

@HubbubGateway()
export class ChatGateway {
  constructor(private readonly chat: ChatService) {}

  @SubscribeMessage('chat.join')
  join(@Conn() conn: Connection, @MessageBody() { room, since }: JoinDto): Promise<JoinResult> {
    return this.chat.join(conn, room, since);
  }

  @SubscribeMessage('chat.leave')
  async leave(
    @Conn() conn: Connection,
    @MessageBody() { room }: RoomDto,
  ): Promise<{ room: string }> {
    await this.chat.leave(conn, room);
    return { room };
  }

  @SubscribeMessage('chat.send')
  async send(
    @Conn() conn: Connection,
    @MessageBody() { room, text, clientMsgId, replyTo }: SendDto,
  ): Promise<{ message: StoredMessage }> {
    return { message: await this.chat.send(conn, room, text, clientMsgId, replyTo) };
  }

  @SubscribeMessage('chat.history')
  history(@Conn() conn: Connection, @MessageBody() query: HistoryDto): Promise<HistoryResult> {
    return this.chat.historyReply(conn, query);
  }

  @SubscribeMessage('chat.typing')
  async typing(
    @Conn() conn: Connection,
    @MessageBody() { room, typing }: TypingDto,
  ): Promise<object> {
    await this.chat.typing(conn, room, typing);
    return {};
  }

  @SubscribeMessage('chat.dm')
  async dm(
    @Conn() conn: Connection,
    @MessageBody() { to, text, clientMsgId }: DmDto,
  ): Promise<{ message: StoredMessage }> {
    return { message: await this.chat.dm(conn, to, text, clientMsgId) };
  }
}
