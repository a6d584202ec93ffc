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
import { ChannelsService } from '../channels/channels.service';
import { ServerSubscriptions } from '../channels/server-subscriptions';
import { ChannelSubscribers, type ChannelPage } from '../channels/subscribers/channel-subscribers';
import { PushService } from '../fanout/push.service';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { ApiKeyGuard } from './api-key.guard';
import { ChannelParams, UserParams } from './api.dto';
import { ChannelListQueryParams, ChannelUserBody, UserMessageBody } from './channels-api.dto';
import { ThrottlerGuard } from '@nestjs/throttler';

export const CHANNEL_LIST_DEFAULT_LIMIT = 100;

/**
 * The server API's channel side: subscribe and unsubscribe users server-side, push to a user, and read channels
 * (subscribers, offset, epoch) cluster-wide. Guarded like the rest of the API.
 */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class ChannelsApiController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly subscriptions: ServerSubscriptions,
    private readonly subscribers: ChannelSubscribers,
    private readonly push: PushService,
  ) {}

  @Post('channels/:channel/subscribe')
  @HttpCode(202)
  async subscribe(
    @Param() { channel }: ChannelParams,
    @Body() { userId }: ChannelUserBody,
  ): Promise<object> {
    await this.subscriptions.subscribe(userId, channel);
    return {};
  }

  @Post('channels/:channel/unsubscribe')
  @HttpCode(202)
  async unsubscribe(
    @Param() { channel }: ChannelParams,
    @Body() { userId }: ChannelUserBody,
  ): Promise<object> {
    await this.subscriptions.unsubscribe(userId, channel);
    return {};
  }

  @Post('users/:userId/messages')
  @HttpCode(202)
  async message(
    @Param() { userId }: UserParams,
    @Body() { data }: UserMessageBody,
  ): Promise<object> {
    await this.push.toUser(userId, 'user.message', { data, from: 'server' });
    return {};
  }

  @Get('channels')
  list(@Query() q: ChannelListQueryParams): Promise<ChannelPage> {
    return this.subscribers.list({
      prefix: q.prefix,
      cursor: q.cursor,
      limit: q.limit ?? CHANNEL_LIST_DEFAULT_LIMIT,
    });
  }

  @Get('channels/:channel')
  async channel(
    @Param() { channel }: ChannelParams,
  ): Promise<{ channel: string; subscribers: number; offset: number; epoch: string }> {
    const [subscribers, { offset, epoch }] = await Promise.all([
      this.subscribers.count(channel),
      this.channels.state(channel),
    ]);
    return { channel, subscribers, offset, epoch };
  }
}
