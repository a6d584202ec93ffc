import { applyDecorators } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { ApiController } from '../api/api.controller';
import {
  EmptyResponse,
  HttpErrorResponse,
  MembersResponse,
  MessageResponse,
  MessagesResponse,
  OffsetResponse,
  StatsResponse,
} from './api-schemas';

type Documented = (summary: string, ...more: MethodDecorator[]) => MethodDecorator;
const route: Documented = (summary, ...more) =>
  applyDecorators(
    ApiOperation({ summary }),
    ApiBadRequestResponse({ type: HttpErrorResponse, description: 'Invalid parameters or body' }),
    ...more,
  );

/**
 * What the OpenAPI document says about each route of the server API, by handler name (a typo or a removed
 * handler fails the type check). Kept beside the document rather than on the controller, whose routes several
 * issues change; a route missing here is still listed, with its parameters and body, only without these details.
 */
const ROUTES: { [K in keyof ApiController]?: MethodDecorator } = {
  publish: route(
    'Publish to a channel',
    ApiCreatedResponse({ type: OffsetResponse, description: 'Pushed as channel.message' }),
  ),
  post: route(
    'Post a message to a room',
    ApiCreatedResponse({
      type: MessageResponse,
      description: 'Stored, then pushed as chat.message',
    }),
  ),
  messages: route('Read the history of a room', ApiOkResponse({ type: MessagesResponse })),
  roomPresence: route('Members present in a room', ApiOkResponse({ type: MembersResponse })),
  broadcast: route(
    'Push `broadcast {data, from: "server"}` to every connection',
    ApiAcceptedResponse({ type: EmptyResponse }),
  ),
  stats: route('Connections, rooms, channels and uptime', ApiOkResponse({ type: StatsResponse })),
  disconnect: route(
    'Close every connection of a user, on every instance, with 4403',
    ApiAcceptedResponse({ type: EmptyResponse }),
  ),
};

let applied = false;

/** Puts the documentation on ApiController's handlers, once per process (decorators write class metadata). */
export function documentApiRoutes(): void {
  if (applied) return;
  applied = true;
  for (const [name, decorate] of Object.entries(ROUTES) as [
    keyof ApiController,
    MethodDecorator,
  ][]) {
    const descriptor = Object.getOwnPropertyDescriptor(ApiController.prototype, name)!;
    decorate(ApiController.prototype, name, descriptor);
  }
}
