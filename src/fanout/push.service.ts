import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Broker, type BrokerMessage } from '../broker/broker';
import { Observations } from '../common/observations';
import { EventBus } from '../events/event-bus';
import type { ClusterCommand, HubbubEventMap } from '../events/event-map';
import { encodePush, frameText } from '../protocol/frames';
import {
  ALL_TOPIC,
  channelTopic,
  commandTopic,
  parseTopic,
  roomTopic,
  userTopic,
} from '../protocol/topics';
import type { PushName } from '../protocol/pushes';
import type { Connection } from '../ws/connection';
import { OutboundWriter } from '../ws/outbound-writer';
import { ClientRegistry } from '../ws/client-registry.service';
import { SubscriptionIndex } from './subscription-index';

/**
 * Every frame the server sends goes through here. Fan-out pushes travel through the broker (in-process or Redis);
 * each instance frames the payload once and writes the same bytes to all of its recipients.
 */
@Injectable()
export class PushService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PushService.name);

  constructor(
    private readonly broker: Broker,
    private readonly registry: ClientRegistry,
    private readonly index: SubscriptionIndex,
    private readonly writer: OutboundWriter,
    private readonly observe: Observations,
    private readonly bus: EventBus,
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

  toRoom<E extends string>(
    room: string,
    event: PushName<E>,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    return this.publish(roomTopic(room), event, data, except);
  }

  /** A push to this instance's connections in a room only (a cluster command brought it to every instance). */
  toLocalRoom<E extends string>(
    room: string,
    event: PushName<E>,
    data: unknown,
    except?: string,
  ): void {
    this.deliver({ topic: roomTopic(room), except, payload: encodePush(event, data) });
  }

  toChannel<E extends string>(
    channel: string,
    event: PushName<E>,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    return this.publish(channelTopic(channel), event, data, except);
  }

  /** Every connection of a user, on every instance. */
  toUser<E extends string>(
    userId: string,
    event: PushName<E>,
    data: unknown,
    except?: Connection,
  ): Promise<void> {
    return this.publish(userTopic(userId), event, data, except);
  }

  toAll<E extends string>(event: PushName<E>, data: unknown): Promise<void> {
    return this.publish(ALL_TOPIC, event, data);
  }

  /** A cluster-wide command: its `@OnEvent` listeners run on every instance, this one included. */
  command<K extends ClusterCommand>(name: K, payload: HubbubEventMap[K]): Promise<void> {
    const topic = commandTopic(name.slice(COMMAND_EVENT.length));
    return this.broker.publish({ topic, payload: JSON.stringify(payload) });
  }

  private publish(topic: string, event: string, data: unknown, except?: Connection): Promise<void> {
    return this.broker.publish({ topic, except: except?.id, payload: encodePush(event, data) });
  }

  private deliver(message: BrokerMessage): void {
    const { topic } = message;
    const parsed = parseTopic(topic);
    if (parsed?.kind === 'command') {
      this.runCommand(`${COMMAND_EVENT}${parsed.command}` as ClusterCommand, message.payload);
      return;
    }
    const targets =
      parsed?.kind === 'all'
        ? this.registry.all()
        : parsed?.kind === 'user'
          ? this.registry.forUser(parsed.userId)
          : this.index.get(topic);
    if (!targets) return;
    let frame: Buffer | undefined;
    let recipients = 0;
    for (const conn of targets) {
      if (conn.id === message.except) continue;
      frame ??= frameText(message.payload);
      this.writer.write(conn, frame);
      recipients++;
    }
    this.observe.fanout(recipients);
  }

  private runCommand(name: ClusterCommand, payload: string): void {
    if (!this.bus.has(name)) {
      this.logger.warn(`no listener for cluster command ${name}`);
      return;
    }
    let data: HubbubEventMap[ClusterCommand];
    try {
      data = JSON.parse(payload) as HubbubEventMap[ClusterCommand];
    } catch {
      this.logger.warn(`cluster command ${name} with a payload that is not JSON`);
      return;
    }
    void this.bus.emit(name, data);
  }
}

/** A cluster command's event name is its topic's command with this prefix. */
const COMMAND_EVENT = 'command.';
