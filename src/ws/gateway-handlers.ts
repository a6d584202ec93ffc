import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  ContextIdFactory,
  DiscoveryService,
  ExternalContextCreator,
  MetadataScanner,
  ModuleRef,
  type ContextId,
} from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ConfigError } from '../config/config-error';
import { FrameRouter, PROTOCOL_EVENTS, type GatewayHandler } from './frame-router';
import { GatewayMarker, messageOf, WS_ARGS, wsParamsFactory } from './gateway-metadata';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

interface Declared {
  event: string;
  method: string;
  wrapper: Wrapper;
}

type Hook = (client: WebSocket, ...args: unknown[]) => unknown;

/** Every enhancer Nest knows for a handler: guards, interceptors and exception filters (pipes always run). */
const ENHANCERS = { guards: true, interceptors: true, filters: true };

/**
 * Each `@HubbubGateway()`'s handlers, built once through Nest's public API: DiscoveryService finds the gateways,
 * MetadataScanner their `@SubscribeMessage` methods, and ExternalContextCreator wraps each method with its
 * guards, pipes, interceptors and exception filters (method, class and global, `APP_*` providers included;
 * context type `ws`). The FrameRouter calls the wrapped function with `(client, data, event)`: nothing is bound
 * per connection. The gateways are not Nest WebSocket gateways (no `@WebSocketGateway` metadata), so Nest's
 * WebSocketsController never binds them a second time, and the app needs no WebSocket adapter for them.
 *
 * A request-scoped gateway (`Scope.REQUEST`, or depending on a request-scoped provider) is resolved once per
 * connection, as Nest does for its own gateways: the connection's WebSocket is the `REQUEST`, and every message
 * of that connection reaches the same instance. Connection hooks (`handleConnection(client, request)`,
 * `handleDisconnect(client)`) run for gateways that have them.
 */
@Injectable()
export class GatewayHandlers implements OnModuleInit {
  private readonly log = new Logger('Gateways');
  private readonly declared: Declared[];
  private readonly opens: Hook[] = [];
  private readonly closes: Hook[] = [];
  /** The DI context of each connection that reached a request-scoped gateway. */
  private readonly contexts = new WeakMap<object, ContextId>();

  constructor(
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    private readonly creator: ExternalContextCreator,
    private readonly moduleRef: ModuleRef,
    private readonly router: FrameRouter,
  ) {
    // Metadata only: checked while Nest creates the providers, so that a conflict stops NestFactory.create.
    this.declared = declare(discovery.getProviders({ metadataKey: GatewayMarker.KEY }), scanner);
  }

  onModuleInit(): void {
    const gateways = new Set<Wrapper>();
    for (const { event, method, wrapper } of this.declared) {
      gateways.add(wrapper);
      this.router.register(event, this.build(wrapper, method));
    }
    for (const wrapper of gateways) this.hooks(wrapper);
  }

  /** A new connection: the gateways' `handleConnection`, before `welcome`. */
  opened(client: WebSocket, request: IncomingMessage): void {
    for (const hook of this.opens) this.run(hook, client, request);
  }

  /** A closed connection: the gateways' `handleDisconnect`. */
  closed(client: WebSocket): void {
    for (const hook of this.closes) this.run(hook, client);
  }

  private build(wrapper: Wrapper, method: string): { handler: GatewayHandler; gateway: object } {
    if (wrapper.isDependencyTreeStatic()) {
      const instance = wrapper.instance as Record<string, (...args: unknown[]) => unknown>;
      const handler = this.wrap(instance, method);
      return { handler, gateway: instance };
    }
    const built = new WeakMap<object, GatewayHandler>();
    const handler = async (client: WebSocket, data: unknown, event: string) => {
      const contextId = this.contextOf(client);
      const instance = await this.instanceOf(wrapper, contextId);
      let run = built.get(instance);
      if (!run) built.set(instance, (run = this.wrap(instance, method, contextId, wrapper.id)));
      return run.call(instance, client, data, event);
    };
    return { handler, gateway: this };
  }

  private wrap(
    instance: object,
    method: string,
    contextId?: ContextId,
    inquirerId?: string,
  ): GatewayHandler {
    const callback = (instance as Record<string, (...args: unknown[]) => unknown>)[method];
    return this.creator.create(
      instance,
      callback,
      method,
      WS_ARGS.key,
      wsParamsFactory,
      contextId,
      inquirerId,
      ENHANCERS,
      'ws',
    ) as GatewayHandler;
  }

  private hooks(wrapper: Wrapper): void {
    const prototype = (wrapper.metatype as { prototype?: Record<string, unknown> } | null)
      ?.prototype;
    for (const [name, list] of [
      ['handleConnection', this.opens],
      ['handleDisconnect', this.closes],
    ] as const) {
      if (typeof prototype?.[name] !== 'function') continue;
      if (wrapper.isDependencyTreeStatic()) {
        const instance = wrapper.instance as Record<string, Hook>;
        list.push(instance[name].bind(instance));
      } else {
        list.push(async (client, ...args) => {
          const instance = await this.instanceOf(wrapper, this.contextOf(client));
          return (instance as Record<string, Hook>)[name](client, ...args);
        });
      }
    }
  }

  private run(hook: Hook, client: WebSocket, ...args: unknown[]): void {
    try {
      const result = hook(client, ...args);
      if (result instanceof Promise) result.catch((err: unknown) => this.failed(err));
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    this.log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  }

  private contextOf(client: WebSocket): ContextId {
    let contextId = this.contexts.get(client);
    if (!contextId) {
      contextId = ContextIdFactory.getByRequest(client as unknown as Record<string, unknown>);
      this.moduleRef.registerRequestByContextId(client, contextId);
      this.contexts.set(client, contextId);
    }
    return contextId;
  }

  private instanceOf(wrapper: Wrapper, contextId: ContextId): Promise<object> {
    return this.moduleRef.resolve(wrapper.token as never, contextId, { strict: false });
  }
}

/** The `@SubscribeMessage` handlers of the gateways; one event declared twice stops the start, naming both. */
function declare(gateways: Wrapper[], scanner: MetadataScanner): Declared[] {
  const declared: Declared[] = [];
  const owner = new Map<string, string>();
  for (const wrapper of gateways) {
    const type = wrapper.metatype as { name: string; prototype: object } | null;
    if (!type) continue;
    for (const method of scanner.getAllMethodNames(type.prototype)) {
      const event = messageOf((type.prototype as Record<string, unknown>)[method]);
      if (event === undefined) continue;
      const where = `${type.name}.${method}`;
      if (PROTOCOL_EVENTS.has(event)) {
        throw new ConfigError(
          `Invalid gateways: ${where} declares "${event}", which Hubbub answers itself`,
        );
      }
      const first = owner.get(event);
      if (first) {
        throw new ConfigError(
          `Invalid gateways: event "${event}" is declared by both ${first} and ${where}`,
        );
      }
      owner.set(event, where);
      declared.push({ event, method, wrapper });
    }
  }
  return declared;
}
