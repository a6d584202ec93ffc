/**
 * Fan-out between instances. A message names a topic; every instance delivers it to its own connections that
 * are interested in that topic. Topics are built and parsed in protocol/topics.ts only (rooms, channels, users,
 * everyone, and cluster commands such as disconnecting a user everywhere).
 */
export interface BrokerMessage {
  topic: string;
  /** Connection id that must not receive it (the sender). */
  except?: string;
  /** The serialized push (or command) as it will be written. */
  payload: string;
  /** W3C `traceparent` of the publishing span; set only while tracing is on (see src/tracing/). */
  trace?: string;
}

export type BrokerHandler = (message: BrokerMessage) => void;

export abstract class Broker {
  /** Starts receiving; `handler` is called for every message of the topics this instance is interested in. */
  abstract start(handler: BrokerHandler): Promise<void>;
  /** This instance now has (or no longer has) local interest in a topic. Cheap to call often. */
  abstract interest(topic: string, interested: boolean): void;
  abstract publish(message: BrokerMessage): Promise<void>;
  /** False while the broker cannot deliver to other instances (Redis down). */
  abstract isHealthy(): boolean;
  /** True once the broker has been healthy since the start (a later outage does not make it false again). */
  hasBeenHealthy(): boolean {
    return true;
  }
  /**
   * Writes this instance's routes again, after Redis lost them (a restart, a failover to a replica that had not
   * caught up) or another instance reaped them while this one was cut off. Called by NodeLiveness; idempotent.
   */
  restore(): Promise<void> {
    return Promise.resolve();
  }
  /**
   * Removes what a dead instance left in the shared state (its routes), so no publish is sent to it any more.
   * Called by NodeLiveness on the instance that reaps it, and for itself on a clean stop.
   */
  abstract dropNode(node: string): Promise<void>;
  abstract close(): Promise<void>;
}
