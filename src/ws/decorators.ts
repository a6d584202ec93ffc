import {
  applyDecorators,
  createParamDecorator,
  UseFilters,
  UseGuards,
  UsePipes,
  type ExecutionContext,
} from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { HubbubError } from '../protocol/errors';
import { connectionOf, type Connection } from './connection';
import { WsAuthGuard } from './ws-auth.guard';
import { WsErrorFilter } from './ws-error.filter';
import { createWsValidationPipe } from './ws-validation.pipe';

export const WS_PATH = '/ws';

/**
 * Declares a gateway on Hubbub's single endpoint with its conventions: authenticated connections only,
 * DTO validation with field details, and errors answered as contract `error` frames tied to the request id.
 * Teams use it for their own gateways too.
 */
export function HubbubGateway(): ClassDecorator {
  return applyDecorators(
    WebSocketGateway({ path: WS_PATH }),
    UseGuards(WsAuthGuard),
    UsePipes(createWsValidationPipe()),
    UseFilters(WsErrorFilter),
  );
}

/** The current {@link Connection} in a message handler. */
export const Conn = createParamDecorator((_data: unknown, ctx: ExecutionContext): Connection => {
  const conn = connectionOf(ctx.switchToWs().getClient());
  if (!conn) throw new HubbubError('internal');
  return conn;
});
