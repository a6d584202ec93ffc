import type { Schema } from './asyncapi-schemas';

/** Why the server took a connection out of a room (`chat.left`) or a channel (`channel.unsubscribed`). */
export const REASON: Schema = {
  enum: ['forbidden', 'server', 'kicked', 'banned'],
  description:
    'forbidden: the refreshed claims no longer grant it; server: the server API; kicked, banned: a moderator',
};

export const CHANNEL_REASON: Schema = {
  enum: ['forbidden', 'server', 'token_expired'],
  description:
    'forbidden: the refreshed claims no longer grant it; server: the server API; token_expired: the subscription token expired with no channel.refresh before',
};
