import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ChannelsService } from '../channels/channels.service';
import { ChatService } from '../chat/chat.service';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { DisconnectService } from '../core/disconnect.service';
import { PushService } from '../core/push.service';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { PresenceService } from '../presence/presence.service';
import { PresenceStore, type Member } from '../presence/store/presence-store';
import type { StoredMessage } from '../store/message-store';
import { ConnectionQuota } from '../ws/connection-quota';
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
@UseGuards(ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class ApiController {
  private readonly startedAt = Date.now();

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly channels: ChannelsService,
    private readonly chat: ChatService,
    private readonly presence: PresenceService,
    private readonly presenceStore: PresenceStore,
    private readonly push: PushService,
    private readonly disconnects: DisconnectService,
    private readonly quota: ConnectionQuota,
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
  async stats(): Promise<{
    connections: number;
    rooms: number;
    channels: number;
    uptimeSec: number;
    node: string;
  }> {
    return {
      connections: await this.quota.totalConnections(),
      rooms: await this.presenceStore.roomCount(),
      channels: this.channels.count(),
      uptimeSec: Math.floor((Date.now() - this.startedAt) / 1000),
      node: this.config.nodeId,
    };
  }

  @Post('users/:userId/disconnect')
  @HttpCode(202)
  async disconnect(@Param() { userId }: UserParams): Promise<object> {
    await this.disconnects.disconnectUser(userId);
    return {};
  }
}
