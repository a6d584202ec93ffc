/**
 * Budgets of the requests whose reply carries stored messages or publications (issue 19): such a reply is read and
 * encoded on the event loop, so its size and how many of them one connection runs at once are bounded.
 */

/**
 * The requests whose reply carries messages or publications (the joins and subscribes among them), with the
 * rate-limit tokens each takes (any other request takes 1): at most one of them runs per connection (the next ones
 * wait in a short queue), and an overloaded instance refuses them. A read of a page of up to 100 messages costs 5;
 * a join or subscribe 1 like any request, so that a client rejoining its rooms after a reconnect is not refused
 * (their replies are bounded by HISTORY_REPLY_MAX_BYTES and taken one at a time all the same). `chat.thread` and
 * `chat.search` are listed ahead of their handlers.
 */
export const MESSAGE_CARRYING_COST: ReadonlyMap<string, number> = new Map([
  ['chat.join', 1],
  ['chat.history', 5],
  ['chat.thread', 5],
  ['chat.search', 5],
  ['channel.subscribe', 1],
]);

/**
 * Requests an overloaded instance refuses (`overloaded`) besides the message-carrying ones: those that make it hold
 * more. A publication stays in its channel's recovery window (up to CHANNEL_HISTORY_MAX_BYTES, more than a small
 * heap holds), so a crowd publishing at its rate limits would otherwise fill the heap past its limit (issue 19,
 * test/budgets/crowd.e2e-spec.ts). A chat message goes to the store, not the heap: `chat.send` is still served.
 */
export const REFUSED_WHILE_OVERLOADED: ReadonlySet<string> = new Set(['channel.publish']);

/**
 * Requests that wait their turn with the message-carrying ones (for 1 token, never refused as `overloaded`): a leave
 * or unsubscribe sent after a join or subscribe of the same name must not overtake it while that one waits.
 */
export const ORDERED_WITH_JOINS: ReadonlySet<string> = new Set([
  'chat.leave',
  'channel.unsubscribe',
]);

/** Reads (cost above 1) of one connection that may wait behind the running request; more get `rate_limited`. Joins
 * and subscribes may wait up to MAX_SUBSCRIPTIONS more (FrameRouter). */
export const MESSAGE_CARRYING_QUEUE = 8;

/** Bytes a reply's other fields and its envelope are allowed besides what {@link fitReply} measures. */
const ENVELOPE_BYTES = 256;

export interface Fitted<T> {
  items: T[];
  /** True when items were left out to stay within the budget. */
  more: boolean;
}

/**
 * As many of `items` as fit in `maxBytes` of JSON (less `otherBytes` for the rest of the reply), kept from the
 * start of the list (`keep: 'first'`, a page going forward) or from its end (`'last'`, a page going back). At least
 * one item is kept, so that a client paging with `before`/`after`/`since` always advances.
 */
export function fitReply<T>(
  items: readonly T[],
  maxBytes: number,
  keep: 'first' | 'last',
  otherBytes = 0,
): Fitted<T> {
  let left = maxBytes - ENVELOPE_BYTES - otherBytes;
  const n = items.length;
  let taken = 0;
  for (; taken < n; taken++) {
    const item = items[keep === 'first' ? taken : n - 1 - taken];
    left -= jsonBytes(item) + 1; // and its comma
    if (left < 0 && taken > 0) break;
  }
  if (taken === n) return { items: items as T[], more: false };
  return {
    items: keep === 'first' ? items.slice(0, taken) : items.slice(n - taken),
    more: true,
  };
}

/** UTF-8 bytes of a value's JSON (0 for what JSON leaves out). */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? 0 : Buffer.byteLength(json);
}
