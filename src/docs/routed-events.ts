import type { INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  GATEWAY_METADATA,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
} from '@nestjs/websockets/constants';

/**
 * The events the gateways of an application route, read from their `@SubscribeMessage` metadata (what the ws
 * adapter's route index is built from), sorted.
 */
export function routedEvents(app: INestApplicationContext): string[] {
  const events = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || !Reflect.getMetadata(GATEWAY_METADATA, instance.constructor)) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[key];
        if (
          typeof handler !== 'function' ||
          !Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler)
        )
          continue;
        const message: unknown = Reflect.getMetadata(MESSAGE_METADATA, handler);
        if (typeof message === 'string') events.add(message);
      }
    }
  }
  return [...events].sort();
}
