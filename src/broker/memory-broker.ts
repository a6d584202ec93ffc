import { Broker, type BrokerHandler, type BrokerMessage } from './broker';

/** Single-instance fan-out: a publish is delivered locally, synchronously, with no serialization round trip. */
export class MemoryBroker extends Broker {
  private handler: BrokerHandler = () => undefined;

  start(handler: BrokerHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }

  interest(): void {
    // Every topic is local.
  }

  publish(message: BrokerMessage): Promise<void> {
    this.handler(message);
    return Promise.resolve();
  }

  isHealthy(): boolean {
    return true;
  }

  dropNode(): Promise<void> {
    return Promise.resolve(); // no other instance, nothing shared
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
