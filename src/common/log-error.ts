/**
 * How a caught error is logged: a bug's stack trace helps, but a service being down (PostgreSQL, Redis, a webhook
 * receiver) is an expected, operational failure that one line tells fully: `connect ECONNREFUSED 127.0.0.1:5432`.
 * Stacks of those only bury the line (and fill CI logs during the outage tests).
 */
const OPERATIONAL_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Connection terminated',
  'timeout exceeded when trying to connect',
];

export function loggableError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const operational =
    (typeof code === 'string' && /^E[A-Z]+$/.test(code)) ||
    err.name === 'MaxRetriesPerRequestError' ||
    OPERATIONAL_MESSAGES.some((m) => err.message.includes(m));
  return operational ? `${err.name}: ${err.message}` : (err.stack ?? err.message);
}
