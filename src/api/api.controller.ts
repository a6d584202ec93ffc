import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ChannelsService } from '../channels/channels.service';
import { ChatService } from '../chat/chat.service';
import { DisconnectService } from '../lifecycle/disconnect.service';
import { PushService } from '../fanout/push.service';
import { StatsService, type ServerStats } from '../core/stats.service';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { PresenceService } from '../presence/presence.service';
import { PresenceStore, type Member } from '../presence/store/presence-store';
import type { StoredMessage } from '../store/message-store';
import { ApiKeyGuard } from './api-key.guard';
import {
  BroadcastBody,
  ChannelParams,
  HistoryQueryParams,
  PostMessageBody,
  PublishBody,
  RoomParams,
  UserParams,
} from './api.dto';

/** The server API for back ends: publish, post, read history and presence, broadcast, disconnect users. */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class ApiController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly chat: ChatService,
    private readonly presence: PresenceService,
    private readonly presenceStore: PresenceStore,
    private readonly push: PushService,
    private readonly disconnects: DisconnectService,
    private readonly statsService: StatsService,
  ) {}

  @Post('channels/:channel/publish')
  @HttpCode(201)
  async publish(
    @Param() { channel }: ChannelParams,
    @Body() { data }: PublishBody,
  ): Promise<{ offset: number }> {
    const publication = await this.channels.publish(channel, data);
    return { offset: publication.offset };
  }

  @Post('rooms/:room/messages')
  @HttpCode(201)
  async post(
    @Param() { room }: RoomParams,
    @Body() body: PostMessageBody,
  ): Promise<{ message: StoredMessage }> {
    return { message: await this.chat.post(room, body.userId, body.text) };
  }

  @Get('rooms/:room/messages')
  async messages(
    @Param() { room }: RoomParams,
    @Query() query: HistoryQueryParams,
  ): Promise<{ messages: StoredMessage[] }> {
    return { messages: await this.chat.history(undefined, { room, ...query }) };
  }

  @Get('rooms/:room/presence')
  async roomPresence(@Param() { room }: RoomParams): Promise<{ members: Member[] }> {
    return { members: await this.presence.members(room) };
  }

  @Post('broadcast')
  @HttpCode(202)
  async broadcast(@Body() { data }: BroadcastBody): Promise<object> {
    await this.push.toAll('broadcast', { data, from: 'server' });
    return {};
  }

  @Get('stats')
  async stats(): Promise<ServerStats & { rooms: number; channels: number }> {
    const { connections, uptimeSec, node } = await this.statsService.snapshot();
    return {
      connections,
      rooms: await this.presenceStore.roomCount(),
      channels: this.channels.count(),
      uptimeSec,
      node,
    };
  }

  @Post('users/:userId/disconnect')
  @HttpCode(202)
  async disconnect(@Param() { userId }: UserParams): Promise<object> {
    await this.disconnects.disconnectUser(userId);
    return {};
  }
}
