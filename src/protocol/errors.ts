/**
 * The closed list of what can go wrong on a Hubbub socket. Every error frame carries one of these codes and every
 * server-initiated close one of the close codes; nothing else produces them (see WsErrorFilter and the adapter).
 */
export const ERROR_CODES = [
  'bad_json',
  'bad_request',
  'unknown_event',
  'validation_failed',
  'forbidden',
  'not_found',
  'not_joined',
  'rate_limited',
  'limit_exceeded',
  'token_expired',
  'internal',
  'overloaded',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const CloseCode = {
  /** Server shutting down: reconnect elsewhere. */
  GoingAway: 1001,
  /** Frame larger than MAX_PAYLOAD_BYTES. */
  MessageTooBig: 1009,
  /** Slow consumer: outbound queue over MAX_BUFFERED_BYTES. */
  TryAgainLater: 1013,
  TokenExpired: 4401,
  /** Disconnected by the server API. */
  Disconnected: 4403,
  /** Kept flooding after rate_limited errors. */
  Flooding: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  bad_json: 'Frame is not valid JSON',
  bad_request: 'Frame must be a JSON object with a string "event"',
  unknown_event: 'Unknown event',
  validation_failed: 'Validation failed',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  not_joined: 'Not joined to this room',
  rate_limited: 'Too many messages',
  limit_exceeded: 'Limit exceeded',
  token_expired: 'Token expired',
  internal: 'Internal server error',
  overloaded: 'Server overloaded, try again later',
};

export interface FieldError {
  field: string;
  errors: string[];
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** The one exception type handlers throw; the filter turns anything else into `internal`. */
export class HubbubError extends Error {
  override name = 'HubbubError';
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGES[code],
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}
