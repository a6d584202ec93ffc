import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { StoredMessage } from '../store/message-store';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import {
  EditDto,
  MessageRefDto,
  ReactDto,
  ReactionsDto,
  SearchDto,
  ThreadDto,
} from './chat-edits.dto';
import { ChatEditsService, type SearchResult, type ThreadResult } from './chat-edits.service';

/** Edits, deletions, reactions, threads and search of chat messages (chat-lifecycle). */
@HubbubGateway()
export class ChatEditsGateway {
  constructor(private readonly chat: ChatEditsService) {}

  @SubscribeMessage('chat.edit')
  async edit(
    @Conn() conn: Connection,
    @MessageBody() { room, seq, text }: EditDto,
  ): Promise<{ message: StoredMessage }> {
    return { message: await this.chat.edit(conn, room, seq, text) };
  }

  @SubscribeMessage('chat.delete')
  async delete(
    @Conn() conn: Connection,
    @MessageBody() { room, seq }: MessageRefDto,
  ): Promise<object> {
    await this.chat.delete(conn, room, seq);
    return {};
  }

  @SubscribeMessage('chat.react')
  react(
    @Conn() conn: Connection,
    @MessageBody() { room, seq, reaction, on }: ReactDto,
  ): Promise<{ reactions: Record<string, number> }> {
    return this.chat.react(conn, room, seq, reaction, on);
  }

  @SubscribeMessage('chat.reactions')
  reactions(
    @Conn() conn: Connection,
    @MessageBody() { room, seq, reaction }: ReactionsDto,
  ): Promise<{ userIds: string[] }> {
    return this.chat.reactions(conn, room, seq, reaction);
  }

  @SubscribeMessage('chat.thread')
  thread(@Conn() conn: Connection, @MessageBody() query: ThreadDto): Promise<ThreadResult> {
    return this.chat.thread(conn, query);
  }

  @SubscribeMessage('chat.search')
  search(@Conn() conn: Connection, @MessageBody() query: SearchDto): Promise<SearchResult> {
    return this.chat.search(conn, query);
  }
}
