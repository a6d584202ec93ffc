// Chat lifecycle and room moderation for the Hubbub client SDK: the requests of the protocol's chat-lifecycle and
// moderation events as methods, installed on HubbubClient by hubbub-client.js. Each is one request/reply; the pushes
// they cause for other connections (`chat.updated`, `chat.deleted`, `chat.reacted`, `user.mention`, `room.role`,
// `chat.left`) reach `client.on(...)` like every other push.

/** @typedef {import('./hubbub-client.js').HubbubClient} HubbubClient */
/** @typedef {import('./hubbub-client.js').Message} Message */

/** Copies the defined entries of `options` whose key is in `keys` (an absent option is left out of the frame).
 * @param {Record<string, unknown> | undefined} options @param {string[]} keys */
function pick(options, keys) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of keys) if (options?.[key] !== undefined) out[key] = options[key];
  return out;
}

/** Methods of HubbubClient for messages that change after they are sent, replies, search and unread counts. */
export const chatLifecycleMethods = {
  /** Edits one of this user's messages; resolves with the edited message (`editedAt` set).
   * @this {HubbubClient} @param {string} room @param {number} seq @param {string} text @returns {Promise<Message>} */
  async edit(room, seq, text) {
    const { message } = await this.request('chat.edit', { room, seq, text });
    return message;
  },
  /** Deletes a message (its author, a room moderator or owner, or admin): it stays as `{text: "", deleted: true}`.
   * @this {HubbubClient} @param {string} room @param {number} seq @returns {Promise<void>} */
  async delete(room, seq) {
    await this.request('chat.delete', { room, seq });
  },
  /** Adds (`on`, the default) or takes back this user's `reaction`; resolves with the message's reaction counts.
   * @this {HubbubClient} @param {string} room @param {number} seq @param {string} reaction @param {boolean} [on]
   * @returns {Promise<Record<string, number>>} */
  async react(room, seq, reaction, on = true) {
    const { reactions } = await this.request('chat.react', { room, seq, reaction, on });
    return reactions;
  },
  /** Who reacted to a message with `reaction` (at most 100 user ids).
   * @this {HubbubClient} @param {string} room @param {number} seq @param {string} reaction @returns {Promise<string[]>} */
  async reactions(room, seq, reaction) {
    const { userIds } = await this.request('chat.reactions', { room, seq, reaction });
    return userIds;
  },
  /** The replies to message `seq`, ascending; `more` when there are more after the last one.
   * @this {HubbubClient} @param {string} room @param {number} seq @param {{after?: number, limit?: number}} [options] */
  thread(room, seq, options) {
    return this.request('chat.thread', { room, seq, ...pick(options, ['after', 'limit']) });
  },
  /** Full-text search of one room: messages holding every word of `q`, newest first.
   * @this {HubbubClient} @param {string} room @param {string} q @param {{before?: number, limit?: number}} [options] */
  search(room, q, options) {
    return this.request('chat.search', { room, q, ...pick(options, ['before', 'limit']) });
  },
  /** Unread and mention counts of the user's rooms (those with a read marker, and DMs), newest activity first.
   * @this {HubbubClient} */
  async unread() {
    const { rooms } = await this.request('chat.unread', {});
    return rooms;
  },
  /** Moves this user's read marker of `room` forward to `seq` (`chat.read`; other devices see it as a push).
   * @this {HubbubClient} @param {string} room @param {number} seq @returns {Promise<void>} */
  async markRead(room, seq) {
    await this.request('chat.read', { room, seq });
  },
  /** Drops this user's read marker of `room`: it leaves `unread()`'s list. @this {HubbubClient} @param {string} room
   * @returns {Promise<void>} */
  async forget(room) {
    await this.request('chat.forget', { room });
  },
};

/** Methods of HubbubClient for room roles and moderation (refused with `forbidden` without the role they need). */
export const moderationMethods = {
  /** The room's owners, moderators, settings and oldest stored seq. @this {HubbubClient} @param {string} room */
  roomInfo(room) {
    return this.request('room.info', { room });
  },
  /** @this {HubbubClient} @param {string} room @param {string} userId @param {'owner' | 'moderator' | 'member'} role
   * @returns {Promise<void>} */
  async setRole(room, userId, role) {
    await this.request('room.role', { room, userId, role });
  },
  /** Takes every connection of the user out of the room (they may join again). @this {HubbubClient}
   * @param {string} room @param {string} userId @returns {Promise<void>} */
  async kick(room, userId) {
    await this.request('room.kick', { room, userId });
  },
  /** Takes the user out of the room and refuses their joins until `until` (ms since epoch), or for good.
   * @this {HubbubClient} @param {string} room @param {string} userId @param {{until?: number, reason?: string}} [options]
   * @returns {Promise<void>} */
  async ban(room, userId, options) {
    await this.request('room.ban', { room, userId, ...pick(options, ['until', 'reason']) });
  },
  /** @this {HubbubClient} @param {string} room @param {string} userId @returns {Promise<void>} */
  async unban(room, userId) {
    await this.request('room.unban', { room, userId });
  },
  /** Refuses the user's sends, edits and reactions in the room until `until` (ms since epoch), or until unmuted.
   * @this {HubbubClient} @param {string} room @param {string} userId @param {{until?: number}} [options]
   * @returns {Promise<void>} */
  async mute(room, userId, options) {
    await this.request('room.mute', { room, userId, ...pick(options, ['until']) });
  },
  /** @this {HubbubClient} @param {string} room @param {string} userId @returns {Promise<void>} */
  async unmute(room, userId) {
    await this.request('room.unmute', { room, userId });
  },
  /** Changes the room's settings (owner); resolves with all of them.
   * @this {HubbubClient} @param {string} room @param {{retentionDays?: number, slowModeMs?: number}} settings */
  async setRoomSettings(room, settings) {
    const reply = await this.request('room.settings', { room, ...pick(settings, ['retentionDays', 'slowModeMs']) });
    return reply.settings;
  },
};

/** Installs the methods above on a client class (hubbub-client.js does this for HubbubClient).
 * @param {{prototype: object}} ClientClass */
export function installChatMethods(ClientClass) {
  for (const methods of [chatLifecycleMethods, moderationMethods]) {
    for (const [name, fn] of Object.entries(methods)) {
      Object.defineProperty(ClientClass.prototype, name, { value: fn, writable: true, configurable: true });
    }
  }
}
