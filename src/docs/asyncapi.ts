import { CloseCode, type ErrorCode } from '../protocol/errors';
import { PUSH_EVENTS } from '../protocol/pushes';
import { WS_PATH } from '../ws/decorators';
import {
  LIFECYCLE_PUSHES,
  LIFECYCLE_REQUESTS,
  withLifecycleFields,
} from './asyncapi-chat-lifecycle';
import { PUSHES, REQUESTS, SHARED_SCHEMAS, type Schema } from './asyncapi-schemas';
import { UNREAD_PUSH_DOCS, withJoinUnread } from './asyncapi-unread';

/**
 * The AsyncAPI 3 document of the socket protocol, built from the code: the request events and their replies, every
 * push of PUSH_EVENTS, the error codes of src/protocol/errors.ts and the close codes. Served at GET /asyncapi.json
 * and committed as docs/asyncapi.json (`npm run asyncapi` writes it; a test checks both are the same).
 *
 * The document describes the server: it receives requests (action `receive`, with their reply) and sends pushes
 * (action `send`). Each message's payload is the whole frame, `{event, id?, data}`.
 */
const ERROR_MEANINGS: Record<ErrorCode, string> = {
  bad_json: 'The frame is not valid JSON',
  bad_request:
    'Not an object, no string `event`, a binary frame, JSON nested deeper than 32 levels',
  unknown_event: 'No gateway handles this event',
  validation_failed: '`details`: a list of {field, errors[]}',
  forbidden: 'The claims (or the access policy) do not grant it',
  not_found: 'No such thing',
  not_joined: 'Sent to a room this connection has not joined',
  rate_limited: '`details.retryAfterMs`: when to try again',
  limit_exceeded: 'More than MAX_SUBSCRIPTIONS rooms plus channels',
  token_expired: 'Pushed (without id) just before the 4401 close',
  internal: 'A fault of the server; never with a stack trace',
  overloaded:
    '`details.retryAfterMs`: refused under load (OVERLOAD_HEAP_RATIO, or ACCESS_PROXY_MAX_PENDING); try again later',
};

const CLOSE_MEANINGS: Record<keyof typeof CloseCode, string> = {
  GoingAway: 'Server shutting down: reconnect elsewhere',
  MessageTooBig: 'Frame over MAX_PAYLOAD_BYTES',
  TryAgainLater: 'Slow consumer: outbound queue over MAX_BUFFERED_BYTES',
  TokenExpired: 'The token expired and no auth.refresh came in time',
  Disconnected: 'Disconnected by the server API',
  Flooding: 'Kept flooding after rate_limited errors',
};

const CHANNEL = 'socket';
const channelRef = { $ref: `#/channels/${CHANNEL}` };
const messageRef = (key: string) => ({ $ref: `#/channels/${CHANNEL}/messages/${key}` });

/** A frame: `event` fixed, `id` required, optional or absent, `data` as given. */
function frame(event: string, data: Schema, id: 'required' | 'optional' | 'none'): Schema {
  const properties: Record<string, Schema> = { event: { const: event } };
  if (id !== 'none') properties.id = { $ref: '#/components/schemas/MessageId' };
  properties.data = data;
  const required = ['event', 'data'];
  if (id === 'required') required.push('id');
  return { type: 'object', properties, required, additionalProperties: false };
}

export function buildAsyncApiDocument(): Record<string, unknown> {
  const messages: Record<string, Schema> = {};
  const operations: Record<string, Schema> = {};

  for (const [event, doc] of Object.entries({
    ...withJoinUnread(REQUESTS),
    ...LIFECYCLE_REQUESTS,
  })) {
    const request = frame(event, doc.data, 'optional');
    // A request without data is taken as `{}`.
    request.required = ['event'];
    messages[`${event}.request`] = {
      name: event,
      title: `${event} request`,
      summary: doc.summary,
      payload: request,
    };
    const replyEvent = doc.replyEvent ?? event;
    messages[`${event}.reply`] = {
      name: replyEvent,
      title: `${event} reply`,
      summary: `Success reply to ${event}, sent only when the request carried an id`,
      payload: frame(replyEvent, doc.reply, 'required'),
    };
    operations[`receive.${event}`] = {
      action: 'receive',
      channel: channelRef,
      summary: doc.summary,
      messages: [messageRef(`${event}.request`)],
      reply: {
        channel: channelRef,
        messages: [messageRef(`${event}.reply`), messageRef('error')],
      },
    };
  }

  const pushes = { ...PUSHES, ...LIFECYCLE_PUSHES, ...UNREAD_PUSH_DOCS };
  for (const event of PUSH_EVENTS) {
    const doc = pushes[event];
    const key = event === 'error' ? 'error' : `${event}.push`;
    messages[key] =
      event === 'error'
        ? {
            name: 'error',
            title: 'error',
            summary: doc.summary,
            payload: frame('error', doc.data, 'optional'),
          }
        : {
            name: event,
            title: event,
            summary: doc.summary,
            payload: frame(event, doc.data, 'none'),
          };
    operations[`send.${event}`] = {
      action: 'send',
      channel: channelRef,
      summary: doc.summary,
      messages: [messageRef(key)],
    };
  }

  const componentMessages = Object.fromEntries(
    Object.entries(messages).map(([key, message]) => [
      key,
      { contentType: 'application/json', ...message },
    ]),
  );

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Hubbub WebSocket protocol',
      version: '1',
      description:
        'One WebSocket carries chat rooms with durable history, pub/sub channels with a recovery window and ' +
        'presence. Frames are UTF-8 text, one JSON object each: requests `{event, data, id?}`, replies ' +
        '`{event, id, data}` (only for requests with an id), errors `{event: "error", id?, data: {code, message, ' +
        'details?}}` (the connection stays open), pushes `{event, data}`.',
      'x-error-codes': ERROR_MEANINGS,
      'x-close-codes': Object.fromEntries(
        (Object.keys(CloseCode) as (keyof typeof CloseCode)[]).map((name) => [
          String(CloseCode[name]),
          CLOSE_MEANINGS[name],
        ]),
      ),
    },
    defaultContentType: 'application/json',
    servers: {
      hubbub: {
        host: '{host}',
        protocol: 'ws',
        pathname: WS_PATH,
        description:
          'Use wss with TLS. Refused handshakes get a plain HTTP status (401, 403, 429, 503).',
        variables: { host: { default: 'localhost:3000', description: 'HOST:PORT of the server' } },
        security: [
          { $ref: '#/components/securitySchemes/bearer' },
          { $ref: '#/components/securitySchemes/accessToken' },
        ],
      },
    },
    channels: {
      [CHANNEL]: {
        address: WS_PATH,
        title: 'The Hubbub socket',
        messages: Object.fromEntries(
          Object.keys(messages).map((key) => [key, { $ref: `#/components/messages/${key}` }]),
        ),
      },
    },
    operations,
    components: {
      schemas: { ...SHARED_SCHEMAS, Message: withLifecycleFields(SHARED_SCHEMAS.Message) },
      messages: componentMessages,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'Authorization: Bearer <jwt> on the upgrade request',
        },
        accessToken: {
          type: 'httpApiKey',
          name: 'access_token',
          in: 'query',
          description: 'The same JWT as the access_token query parameter (browsers)',
        },
      },
    },
  };
}
