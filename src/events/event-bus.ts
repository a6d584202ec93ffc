import { Injectable, Logger } from '@nestjs/common';
import type { HubbubEventHandler, HubbubEventMap, HubbubEventName } from './event-map';
import { loggableError } from '../common/log-error';
import { EventPriority } from './on-event';

interface Listener {
  handler: HubbubEventHandler<never>;
  priority: number;
}

/**
 * The one in-process event mechanism (see HubbubEventMap): domain events, connection events and cluster commands.
 * Listeners are declared with `@OnEvent({ name, priority })` and found at bootstrap (EventListeners); `on` adds one
 * by hand. `emit` runs the listeners one after another, lowest priority first, and resolves when all have
 * finished, so a feature can rely on a reaction having recorded its effect (a webhook in the durable outbox, say)
 * before it answers. A failing listener is logged and never reaches the emitter.
 */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);
  private readonly handlers = new Map<HubbubEventName, Listener[]>();

  /** Adds a listener; among equal priorities, after those already there. */
  on<K extends HubbubEventName>(
    name: K,
    handler: HubbubEventHandler<K>,
    priority: number = EventPriority.Default,
  ): void {
    const list = this.handlers.get(name) ?? [];
    const at = list.findIndex((l) => l.priority > priority);
    const listener = { handler: handler as HubbubEventHandler<never>, priority };
    if (at < 0) list.push(listener);
    else list.splice(at, 0, listener);
    this.handlers.set(name, list);
  }

  /** True when someone listens: lets an emitter skip building a payload nobody reads. */
  has(name: HubbubEventName): boolean {
    return (this.handlers.get(name)?.length ?? 0) > 0;
  }

  /** Like emit, but rejects with the first listener's error (after running all): for steps that must succeed. */
  async emitOrThrow<K extends HubbubEventName>(name: K, payload: HubbubEventMap[K]): Promise<void> {
    let first: Error | undefined;
    for (const { handler } of this.handlers.get(name) ?? []) {
      try {
        await (handler as HubbubEventHandler<K>)(payload);
      } catch (err) {
        first ??=
          err instanceof Error ? err : new Error(`listener of ${name} failed: ${String(err)}`);
      }
    }
    if (first) throw first;
  }

  async emit<K extends HubbubEventName>(name: K, payload: HubbubEventMap[K]): Promise<void> {
    const list = this.handlers.get(name);
    if (!list) return;
    for (const { handler } of list) {
      try {
        await (handler as HubbubEventHandler<K>)(payload);
      } catch (err) {
        this.logger.error(`listener of ${name} failed: ${loggableError(err)}`);
      }
    }
  }
}
