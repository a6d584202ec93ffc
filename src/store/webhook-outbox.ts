/**
 * Durable outbox of webhook events, kept in the message store so that `message.created` can be written in the
 * same transaction as the message itself. Both SQL stores implement it; the webhook dispatcher only sees this.
 */

/** Every webhook event type with its `data`: the one definition (the dispatcher and the stores share it). */
export interface WebhookEventData {
  /** Written by the store in the message's own transaction. */
  'message.created': unknown;
  'room.occupied': { room: string };
  'room.vacated': { room: string };
  'presence.joined': { room: string; userId: string; name?: string };
  'presence.left': { room: string; userId: string };
}
export type WebhookEventType = keyof WebhookEventData;
/** The events services record; `message.created` is not among them: the store writes it with the message. */
export type LifecycleEventType = Exclude<WebhookEventType, 'message.created'>;
/** `id`: given when the event derives from a transition decided once for the cluster; else a random one. */
export type LifecycleEvent = {
  [K in LifecycleEventType]: { type: K; data: WebhookEventData[K]; id?: string };
}[LifecycleEventType];

/** One event as the receiver gets it: the POST body is exactly `JSON.stringify({id, type, ts, data})`. */
export interface WebhookEvent {
  /** A UUID; stays the same on every delivery attempt. Enqueueing an id already in the outbox is a no-op. */
  id: string;
  type: WebhookEventType;
  /** ms since epoch, when the event happened. */
  ts: number;
  data: unknown;
}

/** An event handed to one dispatcher; nobody else can claim it until the lease ends. */
export interface ClaimedWebhook extends WebhookEvent {
  /** Delivery attempts so far, this one included (1 on the first claim). */
  attempts: number;
}

export abstract class WebhookOutbox {
  /** Durably records events (one transaction) with their first attempt due at once. */
  abstract enqueue(events: WebhookEvent[]): Promise<void>;
  /**
   * Takes up to `limit` due events (next attempt reached, no live lease), oldest first, leasing them for
   * `leaseMs` and counting the attempt. Atomic across instances: two concurrent claims never return the same
   * event. An event that is neither completed nor retried becomes claimable again when its lease ends.
   */
  abstract claimWebhooks(limit: number, leaseMs: number): Promise<ClaimedWebhook[]>;
  /** Delivered: removes the event. */
  abstract completeWebhook(id: string): Promise<void>;
  /** Not delivered: releases the lease; the event is due again at `nextAttemptAt` (ms since epoch). */
  abstract retryWebhook(id: string, nextAttemptAt: number): Promise<void>;
  /** Calls `listener` after every commit that added events through this instance (other instances poll). */
  abstract onEnqueue(listener: () => void): void;
}

/** Options both store constructors take. */
export interface OutboxOptions {
  /** Write a `message.created` event in the transaction of every new (non-duplicate) message. */
  outbox?: boolean;
}

/** Row shape shared by both SQL backends. */
export interface OutboxRow {
  id: string;
  type: string;
  payload: string;
  ts: number | string | bigint;
  attempts: number | string | bigint;
}

export function rowToClaimed(r: OutboxRow): ClaimedWebhook {
  return {
    id: r.id,
    type: r.type as WebhookEventType,
    ts: Number(r.ts),
    data: JSON.parse(r.payload) as unknown,
    attempts: Number(r.attempts),
  };
}

/** Oldest due first; ts then id break ties so the order is deterministic. */
export function compareClaimed(a: ClaimedWebhook, b: ClaimedWebhook): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Serialises the payload up front, so a bad event fails its own enqueue rather than a shared transaction. */
export function outboxValues(e: WebhookEvent): [string, string, string, number] {
  const payload = JSON.stringify(e.data);
  if (payload === undefined) throw new TypeError(`webhook ${e.type}: data is not serialisable`);
  return [e.id, e.type, payload, e.ts];
}
