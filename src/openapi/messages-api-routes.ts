import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { MessagesApiController } from '../api/messages-api.controller';
import { HttpErrorResponse, MessageResponse, SearchResponse } from './api-schemas';

const bad = ApiBadRequestResponse({
  type: HttpErrorResponse,
  description: 'Invalid parameters or body',
});

/** What the OpenAPI document says about the chat-lifecycle routes of the server API, by handler name. */
const ROUTES: { [K in keyof MessagesApiController]?: MethodDecorator } = {
  edit: applyDecorators(
    ApiOperation({
      summary: 'Edit a message (as the server): pushed as chat.updated, webhook message.updated',
    }),
    ApiOkResponse({ type: MessageResponse }),
    bad,
    ApiNotFoundResponse({
      type: HttpErrorResponse,
      description: 'No such message, or it is deleted',
    }),
  ),
  delete: applyDecorators(
    ApiOperation({
      summary:
        'Delete a message: its text, mentions and reactions are erased; it stays as a tombstone. Idempotent',
    }),
    ApiNoContentResponse({ description: 'Deleted (or it already was): pushed as chat.deleted' }),
    bad,
    ApiNotFoundResponse({ type: HttpErrorResponse, description: 'No such message' }),
  ),
  search: applyDecorators(
    ApiOperation({
      summary: 'Full-text search of a room: messages holding every word, newest first',
    }),
    ApiOkResponse({ type: SearchResponse }),
    bad,
  ),
};

let applied = false;

/** Puts the documentation on MessagesApiController's handlers, once per process. */
export function documentMessagesApiRoutes(): void {
  if (applied) return;
  applied = true;
  for (const [name, decorate] of Object.entries(ROUTES) as [
    keyof MessagesApiController,
    MethodDecorator,
  ][]) {
    const descriptor = Object.getOwnPropertyDescriptor(MessagesApiController.prototype, name)!;
    decorate(MessagesApiController.prototype, name, descriptor);
  }
}
