import { DiscoveryService, type ParamsFactory } from '@nestjs/core';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';

/**
 * What `@SubscribeMessage`, `@MessageBody`, `@ConnectedSocket` and `@Ack` record, read through those public
 * decorators only. `@nestjs/websockets` exports its metadata keys and parameter types from `./internal`, which is not
 * public API; so each decorator is applied once, here, to a probe, and the keys and types it wrote are read back.
 * Whatever names a later Nest release gives them, this reads what that release's decorators write.
 */
class Probe {}

function probeMessageKeys(): { mapping: string; message: string } {
  const descriptor: PropertyDescriptor = { value: function handler() {} };
  SubscribeMessage('hubbub.probe')(Probe.prototype, 'handler', descriptor);
  const target = descriptor.value as object;
  const keys = Reflect.getOwnMetadataKeys(target) as string[];
  const message = keys.find((k) => Reflect.getOwnMetadata(k, target) === 'hubbub.probe');
  const mapping = keys.find((k) => Reflect.getOwnMetadata(k, target) === true);
  if (!message || !mapping)
    throw new Error('@nestjs/websockets: @SubscribeMessage metadata not found');
  return { mapping, message };
}

function probeArgs(): { key: string; socket: number; payload: number; ack: number } {
  MessageBody()(Probe.prototype, 'args', 0);
  ConnectedSocket()(Probe.prototype, 'args', 1);
  Ack()(Probe.prototype, 'args', 2);
  const [key] = Reflect.getOwnMetadataKeys(Probe, 'args') as string[];
  const args = Reflect.getOwnMetadata(key, Probe, 'args') as Record<string, { index: number }>;
  const typeAt = (index: number): number =>
    Number(
      Object.keys(args)
        .find((k) => args[k].index === index)!
        .split(':')[0],
    );
  return { key, payload: typeAt(0), socket: typeAt(1), ack: typeAt(2) };
}

export const MESSAGE_KEYS = probeMessageKeys();
export const WS_ARGS = probeArgs();

/** The event a gateway method handles, when it is a `@SubscribeMessage` handler. */
export function messageOf(method: unknown): string | undefined {
  if (typeof method !== 'function' || !Reflect.getMetadata(MESSAGE_KEYS.mapping, method)) {
    return undefined;
  }
  const message: unknown = Reflect.getMetadata(MESSAGE_KEYS.message, method);
  return typeof message === 'string' ? message : undefined;
}

/**
 * The values of the WebSocket parameter decorators, from the arguments the FrameRouter calls a handler with:
 * `(client, data, event)`, as Nest's own WS context does.
 */
export const wsParamsFactory: ParamsFactory = {
  exchangeKeyForValue(type: number, data: unknown, args: unknown[]): unknown {
    if (!args) return null;
    if (type === WS_ARGS.socket) return args[0];
    if (type === WS_ARGS.payload) {
      const body = args[1] as Record<string, unknown> | undefined;
      return typeof data === 'string' && data ? body?.[data] : body;
    }
    if (type === WS_ARGS.ack) return args.find((arg) => typeof arg === 'function');
    return null;
  },
};

/** Marks a class as a Hubbub gateway, found by DiscoveryService (see gateway-handlers.ts). */
export const GatewayMarker = DiscoveryService.createDecorator<void>();
