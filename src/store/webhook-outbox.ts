/**
 * Durable outbox of webhook events, kept in the message store so that `message.created` can be written in the
 * same transaction as the message itself. Both SQL stores implement it; the webhook dispatcher only sees this.
 */

import type { MessageDeletedData, MessageReactedData, MessageUpdatedData } from './message-edits';
import type { StoredMessage } from './message-store';

/** Every webhook event type with its `data`: the one definition (the dispatcher and the stores share it). */
export interface WebhookEventData {
  /** Written by the store in the message's own transaction. */
  'message.created': unknown;
  'room.occupied': { room: string };
  'room.vacated': { room: string };
  'presence.joined': { room: string; userId: string; name?: string };
  'presence.left': { room: string; userId: string };
  /** A moderation action (see ModerationStore); `by`: the acting user id, or `server`. */
  'room.moderated': { room: string; action: string; userId: string; by: string; until?: number };
  /** Written by the store in the change's own transaction (see message-edits.ts), in the room's message lane. */
  'message.updated': MessageUpdatedData;
  'message.deleted': MessageDeletedData;
  'message.reacted': MessageReactedData;
  /** A mentioned user or dm recipient with no live connection in the cluster (for mobile push); once per user. */
  'message.notify': {
    userId: string;
    room: string;
    message: StoredMessage;
    reason: 'mention' | 'dm';
  };
}
export type WebhookEventType = keyof WebhookEventData;
/** The events services record; `message.created` is not among them: the store writes it with the message. */
export type LifecycleEventType = Exclude<WebhookEventType, StoreEventType>;
/** The events the store writes in the transaction of the change they announce. */
export type StoreEventType =
  'message.created' | 'message.updated' | 'message.deleted' | 'message.reacted';
/**
 * `id`: given when the event derives from a transition decided once for the cluster; else a random one. `ts`: when
 * it happened (ms since epoch), when the emitter knows better than the time of the emit.
 */
export type LifecycleEvent = {
  [K in LifecycleEventType]: { type: K; data: WebhookEventData[K]; id?: string; ts?: number };
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

/**
 * An event as it is recorded, with how it is queued. Events of one `lane` are handed out one at a time, in order
 * of `ts` (then of writing), and a claim takes at most one event per lane: one lane's burst never holds back
 * another lane's events by more than one round. Without `lane`: `message.created` queues in the lane of its
 * room, any other event in a lane of its own.
 */
export interface OutboxEvent extends WebhookEvent {
  lane?: string;
  /**
   * Who the event is charged to (default: its lane): an owner has at most one event out at a time and a claim
   * takes at most one of its events, so one owner's burst over many lanes still takes one slot per round.
   */
  owner?: string;
  /** Its first attempt is not due before `ts + holdMs` (default 0). */
  holdMs?: number;
  /**
   * Coalescing: when the lane's latest event is of another type, not attempted nor leased yet, and at most this
   * many ms older than this one, both are dropped (the lane's events alternate, so a pair drops out together).
   */
  coalesceMs?: number;
}

/** An event handed to one dispatcher; nobody else can claim it until the lease ends. */
export interface ClaimedWebhook extends WebhookEvent {
  /** Delivery attempts so far, this one included (1 on the first claim). */
  attempts: number;
}

export abstract class WebhookOutbox {
  /**
   * Durably records events (one transaction, in this order), each first due at `ts + holdMs`. Resolves with the
   * number of events that coalescing dropped (those of the call and those already recorded).
   */
  abstract enqueue(events: OutboxEvent[]): Promise<number>;
  /**
   * Takes up to `limit` due events (next attempt reached, no live lease), oldest first, leasing them for
   * `leaseMs` and counting the attempt; only the first event of each lane (see {@link OutboxEvent}) is a
   * candidate, so a lane with an event leased or waiting for its retry gives none. Atomic across instances: two
   * concurrent claims never return the same event. An event that is neither completed nor retried becomes
   * claimable again when its lease ends.
   */
  abstract claimWebhooks(limit: number, leaseMs: number): Promise<ClaimedWebhook[]>;
  /** Delivered: removes the event. */
  abstract completeWebhook(id: string): Promise<void>;
  /** Not delivered: releases the lease; the event is due again at `nextAttemptAt` (ms since epoch). */
  abstract retryWebhook(id: string, nextAttemptAt: number): Promise<void>;
  /** How many events the outbox holds (delivered ones are gone). */
  abstract countWebhooks(): Promise<number>;
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
