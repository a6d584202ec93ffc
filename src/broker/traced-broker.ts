import { SpanKind } from '@opentelemetry/api';
import { Broker, type BrokerHandler, type BrokerMessage } from './broker';
import type { Tracing } from '../tracing/tracing.service';

/**
 * A broker whose publishes are `broker publish` spans and whose messages carry the publisher's trace context
 * (`BrokerMessage.trace`), so that the delivery on every instance, `broker deliver`, joins the same trace: a
 * `chat.send` on one instance and its fan-out on another are one trace. Only made when tracing is on.
 */
export class TracedBroker extends Broker {
  constructor(
    private readonly inner: Broker,
    private readonly tracing: Tracing,
  ) {
    super();
  }

  start(handler: BrokerHandler): Promise<void> {
    return this.inner.start((message) => {
      if (message.trace === undefined) return handler(message);
      this.tracing.consume('broker deliver', message.trace, attributes(message), () =>
        handler(message),
      );
    });
  }

  interest(topic: string, interested: boolean): void {
    this.inner.interest(topic, interested);
  }

  publish(message: BrokerMessage): Promise<void> {
    return this.tracing.span(
      'broker publish',
      attributes(message),
      () => this.inner.publish({ ...message, trace: this.tracing.traceparent() }),
      SpanKind.PRODUCER,
    );
  }

  isHealthy(): boolean {
    return this.inner.isHealthy();
  }

  override hasBeenHealthy(): boolean {
    return this.inner.hasBeenHealthy();
  }

  override restore(): Promise<void> {
    return this.inner.restore();
  }

  dropNode(node: string): Promise<void> {
    return this.inner.dropNode(node);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The broker itself when tracing is off: nothing is added to the fan-out path. */
export function tracedBroker(broker: Broker, tracing: Tracing): Broker {
  return tracing.enabled ? new TracedBroker(broker, tracing) : broker;
}

function attributes(message: BrokerMessage): Record<string, string> {
  return { 'messaging.system': 'hubbub', 'messaging.destination.name': message.topic };
}
