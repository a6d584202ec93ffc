import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Broker, type BrokerMessage } from '../broker/broker';
import { encodePush, encodeReply, frameText, type MessageId } from '../protocol/frames';
import type { PushName } from '../protocol/pushes';
import type { Connection } from '../ws/connection';
import { OutboundWriter } from '../ws/outbound-writer';
import { ClientRegistry } from './client-registry.service';
import { SubscriptionIndex } from './subscription-index';

export type CommandHandler = (payload: string) => void;

/**
 * Every frame the server sends goes through here. Fan-out pushes travel through the broker (in-process or Redis);
 * each instance frames the payload once and writes the same bytes to all of its recipients.
 */
@Injectable()
export class PushService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PushService.name);
  private readonly commands = new Map<string, CommandHandler>();

  constructor(
    private readonly broker: Broker,
    private readonly registry: ClientRegistry,
    private readonly index: SubscriptionIndex,
    private readonly writer: OutboundWriter,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.broker.start((m) => this.deliver(m));
  }

  async onModuleDestroy(): Promise<void> {
    await this.broker.close();
  }

  /** A push to one local connection. */
  send<E extends string>(conn: Connection, event: PushName<E>, data: unknown): void {
    this.writer.write(conn, frameText(encodePush(event, data)));
  }

  reply(conn: Connection, event: string, id: MessageId | undefined, data: unknown): void {
    this.writer.write(conn, frameText(encodeReply(event, id, data)));
  }

  toRoom<E extends string>(
    room: string,
    event: PushName<E>,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    return this.publish(`room:${room}`, event, data, except);
  }

  toChannel<E extends string>(
    channel: string,
    event: PushName<E>,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    return this.publish(`chan:${channel}`, event, data, except);
  }

  /** Every connection of a user, on every instance. */
  toUser<E extends string>(
    userId: string,
    event: PushName<E>,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    return this.publish(`user:${userId}`, event, data, except);
  }

  toAll<E extends string>(event: PushName<E>, data: unknown): Promise<void> {
    return this.publish('all', event, data);
  }

  /** A cluster-wide command; `onCommand` handlers run on every instance, this one included. */
  command(name: string, payload: string): Promise<void> {
    return this.broker.publish({ topic: `ctl:${name}`, payload });
  }

  onCommand(name: string, handler: CommandHandler): void {
    this.commands.set(name, handler);
  }

  private publish(topic: string, event: string, data: unknown, except?: Connection): Promise<void> {
    return this.broker.publish({ topic, except: except?.id, payload: encodePush(event, data) });
  }

  private deliver(message: BrokerMessage): void {
    const { topic } = message;
    if (topic.startsWith('ctl:')) {
      const handler = this.commands.get(topic.slice(4));
      if (handler) handler(message.payload);
      else this.logger.warn(`no handler for cluster command ${topic}`);
      return;
    }
    const targets =
      topic === 'all'
        ? this.registry.all()
        : topic.startsWith('user:')
          ? this.registry.forUser(topic.slice(5))
          : this.index.get(topic);
    if (!targets) return;
    let frame: Buffer | undefined;
    for (const conn of targets) {
      if (conn.id === message.except) continue;
      frame ??= frameText(message.payload);
      this.writer.write(conn, frame);
    }
  }
}
