import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker, type BrokerHandler, type BrokerMessage } from './broker';
import { RedisKeys } from '../cluster/redis-keys';
import { dropConnection, PubSubProbe } from '../cluster/pubsub-probe';
import { execAll } from '../cluster/redis.provider';
import { isBroadcastTopic } from '../protocol/topics';

/**
 * Fan-out through Redis with ONE subscription per instance, whatever the number of rooms.
 *
 * Routing: each instance listens on its own inbox channel `hubbub:inbox:<node>` and on `hubbub:all`.
 * For every topic with local subscribers it adds itself to the route set `hubbub:route:<topic>`.
 * A publish runs one Lua script that PUBLISHes the message to the inbox of each node in the topic's route
 * set, skipping the publisher, which has already delivered to its own connections. So a message reaches only
 * the instances that can deliver it, in one round trip, and a join costs one SADD only when it is the first
 * local subscriber of that topic. `all` and cluster commands go to `hubbub:all`.
 *
 * Redis lost the routes (a restart, a failover) or another instance reaped them while this one was cut off:
 * NodeLiveness calls restore(), which writes every local interest again. It calls dropNode() for an instance it
 * reaped, which removes that instance's routes.
 */
const FANOUT = `
local nodes = redis.call('SMEMBERS', KEYS[1])
local sent = 0
for _, node in ipairs(nodes) do
  if node ~= ARGV[3] then
    redis.call('PUBLISH', ARGV[2] .. node, ARGV[1])
    sent = sent + 1
  end
end
return sent
`;

interface FanoutRedis extends Redis {
  hubbubFanout(
    routeKey: string,
    message: string,
    inboxPrefix: string,
    self: string,
  ): Promise<number>;
}

const ALL_CHANNEL = RedisKeys.allChannel;
const INBOX_PREFIX = RedisKeys.inboxPrefix;
const routeKey = RedisKeys.route;
const nodeTopicsKey = RedisKeys.nodeTopics;

export class RedisBroker extends Broker {
  private readonly logger = new Logger(RedisBroker.name);
  private readonly topics = new Set<string>();
  private handler: BrokerHandler = () => undefined;
  private readonly cmd: FanoutRedis;
  private readonly probeChannel: string;
  private probe: PubSubProbe | undefined;
  private answeredOnce = false;

  /** `probeIntervalMs`: how often the subscriber connection is proven to deliver (HEARTBEAT_INTERVAL_MS). */
  constructor(
    command: Redis,
    private readonly sub: Redis,
    private readonly node: string,
    private readonly probeIntervalMs = 25_000,
  ) {
    super();
    this.cmd = command as FanoutRedis;
    this.cmd.defineCommand('hubbubFanout', { numberOfKeys: 1, lua: FANOUT });
    this.probeChannel = RedisKeys.probe(node);
    if (command.status === 'ready') this.answeredOnce = true;
    else command.once('ready', () => (this.answeredOnce = true));
  }

  async start(handler: BrokerHandler): Promise<void> {
    this.handler = handler;
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel === this.probeChannel) this.probe?.received(raw);
      else this.receive(raw);
    });
    const channels = [ALL_CHANNEL, INBOX_PREFIX + this.node, this.probeChannel];
    this.probe = new PubSubProbe(
      {
        channel: this.probeChannel,
        connected: () => this.sub.status === 'ready',
        publish: (payload) => this.cmd.publish(this.probeChannel, payload),
        rebuild: () => dropConnection(this.sub),
      },
      this.probeIntervalMs,
      this.node,
    );
    this.sub.on('close', () => this.probe?.forget());
    // ioredis resubscribes its channels by itself after a reconnect; routes are rewritten through restore().
    try {
      await this.sub.subscribe(...channels);
    } catch (err) {
      this.logger.debug(`subscribe deferred until Redis answers: ${(err as Error).message}`);
      this.sub.once('ready', () => void this.sub.subscribe(...channels));
    }
  }

  interest(topic: string, interested: boolean): void {
    if (interested) this.topics.add(topic);
    else this.topics.delete(topic);
    if (this.cmd.status !== 'ready') return; // restore() writes it once Redis is back
    const pipeline = this.cmd.pipeline();
    if (interested) {
      pipeline.sadd(routeKey(topic), this.node).sadd(nodeTopicsKey(this.node), topic);
    } else {
      pipeline.srem(routeKey(topic), this.node).srem(nodeTopicsKey(this.node), topic);
    }
    pipeline.exec().catch((err: unknown) => this.logger.warn(`interest ${topic}: ${String(err)}`));
  }

  /** Local connections first (they must not depend on Redis), then every other interested instance. */
  async publish(message: BrokerMessage): Promise<void> {
    this.handler(message);
    const raw = encode(message);
    try {
      if (isBroadcastTopic(message.topic)) {
        await this.cmd.publish(ALL_CHANNEL, `${this.node}\n${raw}`);
      } else {
        await this.cmd.hubbubFanout(
          routeKey(message.topic),
          `${this.node}\n${raw}`,
          INBOX_PREFIX,
          this.node,
        );
      }
    } catch (err) {
      // Remote instances miss this push; clients recover it through chat history (seq) or channel `since`.
      this.logger.warn(`fan-out of ${message.topic} to other instances failed: ${String(err)}`);
    }
  }

  /** Redis has answered once since the start (the command connection was ready). */
  override hasBeenHealthy(): boolean {
    return this.answeredOnce;
  }

  /** Both connections up, and the subscriber proven to deliver (its last probe came back). */
  isHealthy(): boolean {
    return (
      this.cmd.status === 'ready' && this.sub.status === 'ready' && (this.probe?.healthy ?? true)
    );
  }

  async close(): Promise<void> {
    const pipeline = this.cmd.pipeline();
    for (const topic of this.topics) pipeline.srem(routeKey(topic), this.node);
    pipeline.del(nodeTopicsKey(this.node));
    await pipeline.exec().catch(() => undefined);
    this.probe?.stop();
    this.sub.disconnect();
  }

  private receive(raw: string): void {
    const nl = raw.indexOf('\n');
    // Messages on `all` come back to their publisher too, which already delivered locally.
    if (raw.slice(0, nl) === this.node) return;
    const message = decode(raw.slice(nl + 1));
    if (message) this.handler(message);
  }

  async dropNode(node: string): Promise<void> {
    const topics = await this.cmd.smembers(nodeTopicsKey(node));
    const pipeline = this.cmd.pipeline();
    for (const topic of topics) pipeline.srem(routeKey(topic), node);
    await execAll(pipeline.del(nodeTopicsKey(node)));
  }

  override async restore(): Promise<void> {
    if (this.topics.size === 0) return;
    const pipeline = this.cmd.pipeline();
    for (const topic of this.topics) {
      pipeline.sadd(routeKey(topic), this.node).sadd(nodeTopicsKey(this.node), topic);
    }
    await execAll(pipeline);
  }
}

/**
 * `topic \n except \n payload`: the payload is already the JSON push, so it is not encoded twice. While tracing
 * is on, the second line is `except \t traceparent` (neither a connection id nor a traceparent holds a tab).
 */
export function encode(m: BrokerMessage): string {
  const trace = m.trace === undefined ? '' : `\t${m.trace}`;
  return `${m.topic}\n${m.except ?? ''}${trace}\n${m.payload}`;
}

export function decode(raw: string): BrokerMessage | undefined {
  const a = raw.indexOf('\n');
  const b = raw.indexOf('\n', a + 1);
  if (a < 0 || b < 0) return undefined;
  const line = raw.slice(a + 1, b);
  const tab = line.indexOf('\t');
  const except = tab < 0 ? line : line.slice(0, tab);
  const message: BrokerMessage = {
    topic: raw.slice(0, a),
    except: except || undefined,
    payload: raw.slice(b + 1),
  };
  if (tab >= 0) message.trace = line.slice(tab + 1);
  return message;
}
