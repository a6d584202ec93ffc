/**
 * Broker topics: the one place their spelling lives. A topic names who receives a push on every instance:
 *
 * | topic            | delivered to                                   |
 * | ---------------- | ---------------------------------------------- |
 * | `room:<name>`    | connections joined to the chat room            |
 * | `chan:<name>`    | connections subscribed to the channel          |
 * | `user:<id>`      | every connection of the user                   |
 * | `all`            | every connection                               |
 * | `ctl:<command>`  | no connection: a cluster command, run by every instance |
 */
export type Topic = string & { readonly __topic?: never };

export type ParsedTopic =
  | { kind: 'room'; name: string }
  | { kind: 'channel'; name: string }
  | { kind: 'user'; userId: string }
  | { kind: 'all' }
  | { kind: 'command'; command: string };

const ROOM = 'room:';
const CHANNEL = 'chan:';
const USER = 'user:';
const COMMAND = 'ctl:';
export const ALL_TOPIC: Topic = 'all';

export const roomTopic = (room: string): Topic => ROOM + room;
export const channelTopic = (channel: string): Topic => CHANNEL + channel;
export const userTopic = (userId: string): Topic => USER + userId;
export const commandTopic = (command: string): Topic => COMMAND + command;

/** Prefixes for counting topics of one kind (SubscriptionIndex.count). */
export const TOPIC_PREFIX = { room: ROOM, channel: CHANNEL } as const;

/** Topics that every instance receives whatever its local interest: `all` and cluster commands. */
export function isBroadcastTopic(topic: string): boolean {
  return topic === ALL_TOPIC || topic.startsWith(COMMAND);
}

/** The kind and name of a topic; undefined for a string that is not one. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (topic === ALL_TOPIC) return { kind: 'all' };
  if (topic.startsWith(ROOM)) return { kind: 'room', name: topic.slice(ROOM.length) };
  if (topic.startsWith(CHANNEL)) return { kind: 'channel', name: topic.slice(CHANNEL.length) };
  if (topic.startsWith(USER)) return { kind: 'user', userId: topic.slice(USER.length) };
  if (topic.startsWith(COMMAND)) return { kind: 'command', command: topic.slice(COMMAND.length) };
  return undefined;
}
