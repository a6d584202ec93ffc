import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import type { ApplicationConfig, NestContainer } from '@nestjs/core';
import { WsErrorFilter } from './ws-error.filter';
import { DeclaredKeysValidationPipe } from './ws-validation.pipe';

/** A gateway method called as it is: `method.call(gateway)`. */
export type DirectHandler = (this: object) => unknown;

/**
 * Nest runs every request through its pipeline: an async proxy with the exception filters, the guards, the
 * interceptors, and the pipes applied to the resolved arguments. For a handler with none of those to run, the
 * pipeline adds nothing but about 6 µs of promises per request (docs/benchmarks.md: CPU per `ping`). Such a handler
 * is called directly. It qualifies only when ALL of these hold, so that what it does and answers is what Nest's
 * pipeline would have made of it:
 * - no global guard, interceptor, pipe or filter (`useGlobal…` or `APP_…`);
 * - its gateway is a static singleton (Nest resolves a request-scoped one per request);
 * - it takes no argument (`length` 0, no parameter decorator): nothing to resolve, no pipe's output is used;
 * - no guard or interceptor on its class or method; no pipe on the method, and on the class only Hubbub's
 *   validation pipe (it passes untyped arguments through); no exception filter but Hubbub's WsErrorFilter (the
 *   FrameRouter maps a throw the same way).
 * Anything else, a team's guard on one handler for one, and the handler goes through Nest as usual.
 */
export function directHandler(
  gateway: object,
  methodName: string,
  config: ApplicationConfig | undefined,
  container: NestContainer | undefined,
): DirectHandler | undefined {
  const method = (gateway as Record<string, unknown>)[methodName];
  if (typeof method !== 'function' || method.length !== 0) return undefined;
  if (!config || hasGlobalEnhancers(config) || !isStatic(gateway, container)) return undefined;
  const type = gateway.constructor;
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, type, methodName) as object | undefined;
  if (args && Object.keys(args).length > 0) return undefined;
  for (const target of [type, method]) {
    if (declared(GUARDS_METADATA, target).length > 0) return undefined;
    if (declared(INTERCEPTORS_METADATA, target).length > 0) return undefined;
    if (!declared(EXCEPTION_FILTERS_METADATA, target).every(isHubbubFilter)) return undefined;
  }
  if (declared(PIPES_METADATA, method).length > 0) return undefined;
  if (!declared(PIPES_METADATA, type).every((p) => p instanceof DeclaredKeysValidationPipe)) {
    return undefined;
  }
  return method as DirectHandler;
}

function declared(key: string, target: object): unknown[] {
  return (Reflect.getMetadata(key, target) as unknown[] | undefined) ?? [];
}

function isHubbubFilter(filter: unknown): boolean {
  return filter === WsErrorFilter || filter instanceof WsErrorFilter;
}

function hasGlobalEnhancers(config: ApplicationConfig): boolean {
  return (
    config.getGlobalGuards().length +
      config.getGlobalRequestGuards().length +
      config.getGlobalInterceptors().length +
      config.getGlobalRequestInterceptors().length +
      config.getGlobalPipes().length +
      config.getGlobalRequestPipes().length +
      config.getGlobalFilters().length +
      config.getGlobalRequestFilters().length >
    0
  );
}

/** Whether Nest holds this gateway as one static instance (not per request, not per durable context). */
function isStatic(gateway: object, container: NestContainer | undefined): boolean {
  for (const module of container?.getModules().values() ?? []) {
    for (const wrapper of module.providers.values()) {
      if (wrapper.instance === gateway) return wrapper.isDependencyTreeStatic();
    }
  }
  return false;
}
