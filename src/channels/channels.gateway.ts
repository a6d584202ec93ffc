import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import { ChannelDto, ChannelRefreshDto, PublishDto, SubscribeDto } from './channels.dto';
import { ChannelsService, type SubscribeResult } from './channels.service';

@HubbubGateway()
export class ChannelsGateway {
  constructor(private readonly channels: ChannelsService) {}

  @SubscribeMessage('channel.subscribe')
  subscribe(
    @Conn() conn: Connection,
    @MessageBody() { channel, since, epoch, token }: SubscribeDto,
  ): Promise<SubscribeResult> {
    const from = since === undefined ? undefined : { offset: since, epoch: epoch! };
    return this.channels.subscribe(conn, channel, from, token);
  }

  @SubscribeMessage('channel.unsubscribe')
  unsubscribe(
    @Conn() conn: Connection,
    @MessageBody() { channel }: ChannelDto,
  ): { channel: string } {
    this.channels.unsubscribe(conn, channel);
    return { channel };
  }

  @SubscribeMessage('channel.refresh')
  refresh(
    @Conn() conn: Connection,
    @MessageBody() { channel, token }: ChannelRefreshDto,
  ): Promise<{ channel: string; exp: number }> {
    return this.channels.refresh(conn, channel, token);
  }

  @SubscribeMessage('channel.publish')
  async publish(
    @Conn() conn: Connection,
    @MessageBody() { channel, data }: PublishDto,
  ): Promise<{ offset: number }> {
    const publication = await this.channels.publish(channel, data, conn);
    return { offset: publication.offset };
  }
}
