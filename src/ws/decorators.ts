import {
  applyDecorators,
  createParamDecorator,
  UsePipes,
  type ExecutionContext,
} from '@nestjs/common';
import { HubbubError } from '../protocol/errors';
import { connectionOf, type Connection } from './connection';
import { GatewayMarker } from './gateway-metadata';
import { addWsExceptionFilter } from './ws-error.filter';
import { createWsValidationPipe } from './ws-validation.pipe';

export const WS_PATH = '/ws';

/**
 * Declares a gateway on Hubbub's single endpoint with its conventions: DTO validation with field details, and
 * whatever a handler throws (and no exception filter handled) answered as a contract `error` frame tied to the
 * request id. Teams use it for their own gateways too; its `@SubscribeMessage` handlers get every Nest enhancer
 * (see gateway-handlers.ts). Only authenticated connections reach any gateway: the handshake admits them, and the
 * FrameRouter answers `token_expired` to a request after the token's `exp` (no guard per handler needed).
 */
export function HubbubGateway(): ClassDecorator {
  const decorate = applyDecorators(GatewayMarker(), UsePipes(createWsValidationPipe()));
  return (target) => {
    decorate(target);
    addWsExceptionFilter(target);
  };
}

/** The current {@link Connection} in a message handler. */
export const Conn = createParamDecorator((_data: unknown, ctx: ExecutionContext): Connection => {
  const conn = connectionOf(ctx.switchToWs().getClient());
  if (!conn) throw new HubbubError('internal');
  return conn;
});
