import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { EventBus } from './event-bus';
import type { HubbubEventHandler, HubbubEventName } from './event-map';
import { EventPriority, ON_EVENT, type OnEventOptions } from './on-event';

/**
 * Finds every `@OnEvent` method among the app's providers through Nest's DiscoveryService (public API) and
 * registers it on the EventBus, once, when the modules initialise (before any application-bootstrap hook, so
 * before the first connection or cluster event).
 */
@Injectable()
export class EventListeners implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly bus: EventBus,
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
      if (!proto) continue;
      for (const key of this.scanner.getAllMethodNames(proto)) {
        const method = proto[key];
        if (typeof method !== 'function') continue;
        const declared = Reflect.getMetadata(ON_EVENT, method) as
          OnEventOptions<HubbubEventName>[] | undefined;
        for (const { name, priority } of declared ?? []) {
          const handler = (method as HubbubEventHandler<typeof name>).bind(instance);
          this.bus.on(name, handler, priority ?? EventPriority.Default);
        }
      }
    }
  }
}
