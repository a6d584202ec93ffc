/**
 * Small fixtures shared by the specs: random ids, number ranges, and the shapes the wire protocol carries
 * (docs/protocol.md), as expected objects with `expect.any(...)` where the server picks the value.
 */

/** The wire Message, as the client SDK declares it. */
export type Message = import('../../client/hubbub-client.js').Message;

/**
 * A random suffix (8 base-36 characters) for room, channel and user ids, so that no test sees another's data,
 * including data that outlives a run in PostgreSQL or Redis.
 */
export const rid = (): string => Math.random().toString(36).slice(2, 10);

/** from, from + 1, …, to. */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A stored chat message with these fields: any id and ts, since the server assigns them. */
export const storedMessage = (fields: Omit<Message, 'id' | 'ts'>): Record<string, unknown> => ({
  id: expect.any(String),
  ...fields,
  ts: expect.any(Number),
});

/** A member of a room's presence with these fields: any `since` and `v`, since the server takes them. */
export const presentMember = (fields: {
  userId: string;
  name?: string;
  status: 'online' | 'away' | 'busy';
  connections: number;
}): Record<string, unknown> => ({ ...fields, since: expect.any(Number), v: expect.any(Number) });

/** A channel publication with these fields: any ts, since the server takes the time. */
export const publication = (fields: {
  channel: string;
  offset: number;
  data: unknown;
  userId?: unknown;
}): Record<string, unknown> => ({ ...fields, ts: expect.any(Number) });
