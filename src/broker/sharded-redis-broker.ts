import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Broker, type BrokerHandler, type BrokerMessage } from './broker';
import { decode, encode } from './redis-broker';
import { PartitionKeys } from '../cluster/redis-keys';
import type { RedisPartitions } from '../cluster/redis-partitions';
import { PubSubProbe } from '../cluster/pubsub-probe';
import { execAll } from '../cluster/redis.provider';
import { isBroadcastTopic } from '../protocol/topics';

/**
 * The Redis broker's routing (redis-broker.ts) on a Redis Cluster, over sharded pub/sub: a cluster's PUBLISH is
 * copied to every node of the cluster, so it cannot scale past one node; SPUBLISH stays in the shard of its
 * channel's slot.
 *
 * Every topic belongs to one of the fixed partitions (RedisPartitions, REDIS_PUBSUB_PARTITIONS), whose hash tag its
 * route set, the instances' inboxes and the broadcast channel of that partition share: `hubbub:{p}:route:<topic>`,
 * `hubbub:{p}:inbox:<node>`, `hubbub:{p}:all`. An instance SSUBSCRIBEs to its inbox and the broadcast channel in
 * every partition (ioredis keeps one sharded-subscriber connection per master); a publish runs the fan-out script
 * in the topic's partition, which SPUBLISHes to the inbox of each interested instance there, all in one slot. The
 * partitions' tags spread over the masters, so the masters share the fan-out instead of each repeating all of it.
 *
 * Each partition's subscription is probed every `probeIntervalMs` (a probe SPUBLISHed to this instance's own inbox
 * in that partition must come back through the sharded subscriber serving it): so is each sharded connection, the
 * partitions covering every master. A partition whose probe does not come back is re-subscribed (SUNSUBSCRIBE then
 * SSUBSCRIBE: after a failover the old master drops its shard channels with an unsolicited `sunsubscribe`, which a
 * client library may miss), with readiness 503 until a probe comes back.
 */
const FANOUT = `
local nodes = redis.call('SMEMBERS', KEYS[1])
local sent = 0
for _, node in ipairs(nodes) do
  if node ~= ARGV[3] then
    redis.call('SPUBLISH', ARGV[2] .. node, ARGV[1])
    sent = sent + 1
  end
end
return sent
`;

/** A probe's payload starts with a byte no instance id (the first line of a push) holds. */
const PROBE_MARK = '\u0000';

interface ShardedRedis extends Redis {
  hubbubShardFanout(
    routeKey: string,
    message: string,
    inboxPrefix: string,
    self: string,
  ): Promise<number>;
}

export class ShardedRedisBroker extends Broker {
  private readonly logger = new Logger(ShardedRedisBroker.name);
  private readonly topics = new Set<string>();
  private handler: BrokerHandler = () => undefined;
  private readonly cmd: ShardedRedis;
  private readonly tags: readonly string[];
  private probes: PubSubProbe[] = [];
  private answeredOnce = false;

  constructor(
    command: Redis,
    private readonly sub: Redis,
    private readonly node: string,
    private readonly partitions: RedisPartitions,
    private readonly probeIntervalMs = 25_000,
  ) {
    super();
    this.cmd = command as ShardedRedis;
    this.cmd.defineCommand('hubbubShardFanout', { numberOfKeys: 1, lua: FANOUT });
    this.tags = partitions.tags.map((_, p) => partitions.hashTag(p));
    if (command.status === 'ready') this.answeredOnce = true;
    else command.once('ready', () => (this.answeredOnce = true));
  }

  async start(handler: BrokerHandler): Promise<void> {
    this.handler = handler;
    this.sub.on('smessage', (_channel: string, raw: string) => this.receive(raw));
    this.probes = this.tags.map(
      (tag, p) =>
        new PubSubProbe(
          {
            channel: PartitionKeys.inbox(tag, this.node),
            connected: () => this.sub.status === 'ready',
            publish: (payload) =>
              this.cmd.spublish(PartitionKeys.inbox(tag, this.node), PROBE_MARK + payload),
            rebuild: () => void this.resubscribe(p),
          },
          this.probeIntervalMs,
          `${this.node}/${tag}`,
          `${p}:`,
        ),
    );
    try {
      await Promise.all(this.tags.map((_, p) => this.sub.ssubscribe(...this.channels(p))));
    } catch (err) {
      this.logger.debug(`subscribe deferred until Redis answers: ${(err as Error).message}`);
      this.sub.once('ready', () => {
        for (let p = 0; p < this.tags.length; p++) void this.resubscribe(p);
      });
    }
  }

  interest(topic: string, interested: boolean): void {
    if (interested) this.topics.add(topic);
    else this.topics.delete(topic);
    if (this.cmd.status !== 'ready') return; // restore() writes it once Redis is back
    const tag = this.tags[this.partitions.of(topic)];
    const pipeline = this.cmd.pipeline();
    const route = PartitionKeys.route(tag, topic);
    const mine = PartitionKeys.nodeTopics(tag, this.node);
    if (interested) pipeline.sadd(route, this.node).sadd(mine, topic);
    else pipeline.srem(route, this.node).srem(mine, topic);
    pipeline.exec().catch((err: unknown) => this.logger.warn(`interest ${topic}: ${String(err)}`));
  }

  /** Local connections first (they must not depend on Redis), then every other interested instance. */
  async publish(message: BrokerMessage): Promise<void> {
    this.handler(message);
    const tag = this.tags[this.partitions.of(message.topic)];
    const raw = `${this.node}\n${encode(message)}`;
    try {
      if (isBroadcastTopic(message.topic)) {
        await this.cmd.spublish(PartitionKeys.all(tag), raw);
      } else {
        await this.cmd.hubbubShardFanout(
          PartitionKeys.route(tag, message.topic),
          raw,
          PartitionKeys.inbox(tag, ''),
          this.node,
        );
      }
    } catch (err) {
      // Remote instances miss this push; clients recover it through chat history (seq) or channel `since`.
      this.logger.warn(`fan-out of ${message.topic} to other instances failed: ${String(err)}`);
    }
  }

  override hasBeenHealthy(): boolean {
    return this.answeredOnce;
  }

  /** Both clients up, and every partition's subscription proven to deliver (its last probe came back). */
  isHealthy(): boolean {
    return (
      this.cmd.status === 'ready' &&
      this.sub.status === 'ready' &&
      this.probes.every((probe) => probe.healthy)
    );
  }

  /** Partitions whose subscription is not proven to deliver (for logs and tests). */
  unhealthyPartitions(): number[] {
    return this.probes.flatMap((probe, p) => (probe.healthy ? [] : [p]));
  }

  async close(): Promise<void> {
    for (const probe of this.probes) probe.stop();
    await this.dropNode(this.node).catch(() => undefined);
    this.sub.disconnect();
  }

  async dropNode(node: string): Promise<void> {
    await Promise.all(
      this.tags.map(async (tag) => {
        const mine = PartitionKeys.nodeTopics(tag, node);
        const topics = await this.cmd.smembers(mine);
        const pipeline = this.cmd.pipeline();
        for (const topic of topics) pipeline.srem(PartitionKeys.route(tag, topic), node);
        await execAll(pipeline.del(mine));
      }),
    );
  }

  override async restore(): Promise<void> {
    const byPartition = new Map<number, string[]>();
    for (const topic of this.topics) {
      const p = this.partitions.of(topic);
      byPartition.set(p, [...(byPartition.get(p) ?? []), topic]);
    }
    await Promise.all(
      [...byPartition].map(([p, topics]) => {
        const tag = this.tags[p];
        const pipeline = this.cmd.pipeline();
        for (const topic of topics) {
          pipeline
            .sadd(PartitionKeys.route(tag, topic), this.node)
            .sadd(PartitionKeys.nodeTopics(tag, this.node), topic);
        }
        return execAll(pipeline);
      }),
    );
  }

  /** This instance's inbox and the broadcast channel of a partition (one slot: one SSUBSCRIBE). */
  private channels(p: number): [string, string] {
    return [PartitionKeys.inbox(this.tags[p], this.node), PartitionKeys.all(this.tags[p])];
  }

  /** Subscribes a partition's channels anew: on whichever node serves its slot now. */
  private async resubscribe(p: number): Promise<void> {
    const channels = this.channels(p);
    try {
      await this.sub.sunsubscribe(...channels).catch(() => undefined);
      await this.sub.ssubscribe(...channels);
    } catch (err) {
      this.logger.debug(
        `re-subscribing partition ${p} failed, retried by its probe: ${String(err)}`,
      );
    }
  }

  private receive(raw: string): void {
    if (raw.startsWith(PROBE_MARK)) {
      const payload = raw.slice(1);
      const p = Number(payload.slice(0, payload.indexOf(':')));
      this.probes[p]?.received(payload);
      return;
    }
    const nl = raw.indexOf('\n');
    // Broadcasts come back to their publisher too, which already delivered locally.
    if (raw.slice(0, nl) === this.node) return;
    const message = decode(raw.slice(nl + 1));
    if (message) this.handler(message);
  }
}
