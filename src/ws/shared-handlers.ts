import type { ApplicationConfig, NestContainer } from '@nestjs/core';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import { directHandler, type DirectHandler } from './direct-handlers';

/**
 * Gateway handlers bound once per gateway instead of once per connection.
 *
 * For every new client, Nest's WebSocketsController.subscribeMessages binds each `@SubscribeMessage` handler of
 * each gateway to that client (`callback.bind(gateway, client)`) and hands the bound functions to the adapter.
 * With 17 handlers that is 17 bound functions and their argument arrays per connection, about 1.2 KB of a
 * connection's retained heap (docs/benchmarks.md), and 17 allocations per handshake, for handlers that are the
 * same for every client except for their first argument.
 *
 * The handler Nest binds is already the full pipeline built by its WsContextCreator (guards, interceptors, pipes,
 * exception filters, `@ConnectedSocket()` / `@MessageBody()` resolution), taking `(client, data, ...)`. So an
 * adapter that can dispatch with the client itself (`callback.call(gateway, client, data)`) needs the unbound
 * handlers once. This patch gives it that: when the application's WebSocket adapter offers
 * `bindSharedMessageHandlers` and accepts the client, Nest's per-client binding is skipped; otherwise (another
 * adapter, a client that is not ours) Nest's own method runs unchanged.
 *
 * Nest offers no public hook for this, so it replaces one method of an internal class. Nest's version is pinned by
 * package-lock.json, and test/embedding/extensions.e2e-spec.ts (a team's gateway with its guard, interceptor, pipe,
 * `@ConnectedSocket`, connection hooks, and a global `APP_GUARD`) fails if a Nest upgrade changes what this relies
 * on; `shareGatewayHandlers` also throws at startup if the method is gone.
 *
 * Each handler also comes with `direct` when Nest's pipeline would add nothing to it (see direct-handlers.ts),
 * decided once per gateway from Nest's container and application config.
 */
export interface SharedHandler extends MessageMappingProperties {
  direct?: DirectHandler;
}

export interface SharedHandlerAdapter {
  /** Returns false when this client is not one the adapter dispatches itself (Nest then binds as usual). */
  bindSharedMessageHandlers(client: unknown, handlers: SharedHandler[], gateway: object): boolean;
}

type SubscribeMessages = (
  this: WebSocketsController,
  handlers: MessageMappingProperties[],
  client: unknown,
  gateway: object,
) => void;

const PATCHED = Symbol.for('hubbub.sharedGatewayHandlers');

export function shareGatewayHandlers(): void {
  const proto = WebSocketsController.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[PATCHED]) return;
  const original = proto.subscribeMessages as SubscribeMessages | undefined;
  if (typeof original !== 'function') {
    throw new Error('@nestjs/websockets changed: WebSocketsController.subscribeMessages is gone');
  }
  // Nest hands the same list for every client of a gateway: it is looked at once.
  const prepared = new WeakMap<MessageMappingProperties[], SharedHandler[]>();
  const shared: SubscribeMessages = function (handlers, client, gateway) {
    const { config, container } = this as unknown as NestInternals;
    const adapter = config?.getIoAdapter?.();
    if (isSharing(adapter)) {
      let list = prepared.get(handlers);
      if (!list) {
        list = handlers.map((h) => ({
          ...h,
          direct: directHandler(gateway, h.methodName, config, container),
        }));
        prepared.set(handlers, list);
      }
      if (adapter.bindSharedMessageHandlers(client, list, gateway)) return;
    }
    original.call(this, handlers, client, gateway);
  };
  proto.subscribeMessages = shared;
  proto[PATCHED] = true;
}

/** The two private fields of WebSocketsController this reads. */
interface NestInternals {
  config?: ApplicationConfig & { getIoAdapter?(): unknown };
  container?: NestContainer;
}

function isSharing(adapter: unknown): adapter is SharedHandlerAdapter {
  return (
    typeof (adapter as Partial<SharedHandlerAdapter> | undefined)?.bindSharedMessageHandlers ===
    'function'
  );
}
