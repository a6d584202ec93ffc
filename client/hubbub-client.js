// Hubbub client SDK (plain ES module, browsers and Node >= 24): request/reply over one WebSocket, reconnect with
// jittered exponential backoff, rooms rejoined and channels resubscribed with `since` and `epoch` so the app sees no
// gap; with `getToken`, the token is refreshed (`auth.refresh`) about 30 s before it expires.

import { installChatMethods } from './hubbub-chat.js';

/** @typedef {{id: string, room: string, seq: number, userId: string, name?: string, text: string, ts: number, clientMsgId?: string, replyTo?: number, mentions?: string[], editedAt?: number, deleted?: true, reactions?: Record<string, number>}} Message */
/** @typedef {{channel: string, offset: number, data: unknown, userId?: string, ts: number}} Publication */
/** @typedef {{clientId: string, userId: string, node: string, heartbeatMs: number, serverTime: number}} Welcome */
/** @typedef {{seq: number, filling: boolean, buffer: Message[], mine: Set<number>}} RoomState */
/** @typedef {{offset: number | null, epoch: string | null, handler?: (p: Publication) => void, token?: string}} ChannelState */
/** @typedef {{event: string, data: unknown, resolve: (v: any) => void, reject: (e: Error) => void, timer?: any, id?: number}} Pending */

import { transportSocket } from './hubbub-transports.js';

const TERMINAL_CLOSE_CODES = new Set([4403, 4429]); // disconnected by the server API, flooding: never reconnect
const STABLE_AFTER_MS = 5000; // a connection that lasted this long resets the backoff
const REFRESH_BEFORE_MS = 30000; // auth.refresh this long before the token's exp

/** The `exp` claim of a JWT in ms, or null when it cannot be read. @param {string | undefined} token */
function expiryOf(token) {
  try {
    const b64 = (token ?? '').split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(globalThis.atob(b64)).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** An error frame from the server, or a local failure (`timeout`, `disconnected`, `closed`). */
export class HubbubError extends Error {
  /** @param {string} code @param {string} message @param {unknown} [details] */
  constructor(code, message, details) { super(message); this.name = 'HubbubError'; this.code = code; this.details = details; }
}

const newId = () =>
  globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
const byId = (/** @type {Message} */ a, /** @type {Message} */ b) => a.seq - b.seq;

export class HubbubClient {
  /** @type {Welcome | null} the latest `welcome` */ welcome = null;
  /** @type {WebSocket | null} */ #ws = null;
  #url; #token; #getToken; #reconnect; #WebSocket; #timeoutMs; #baseMs; #maxMs;
  #nextId = 1;
  /** @type {Map<number, Pending>} */ #pending = new Map();
  /** @type {Pending[]} requests waiting for the connection */ #queue = [];
  /** @type {Map<string, Set<(data: any) => void>>} */ #handlers = new Map();
  /** @type {Map<string, RoomState>} */ #rooms = new Map();
  /** @type {Map<string, ChannelState>} */ #channels = new Map();
  /** @type {Set<string>} clientMsgIds of unacknowledged sends: the caller's own, never emitted */ #own = new Set();
  /** @type {{resolve: (w: Welcome) => void, reject: (e: Error) => void}[]} */ #connecting = [];
  #status = 'online'; #ready = false; #closed = true; #attempt = 0; #openedAt = 0; #needToken = true;
  /** @type {any} */ #retryTimer; /** @type {any} */ #refreshTimer;
  #skewMs = 0; // server clock minus ours, from welcome

  /** @param {string} url `ws(s)://host/ws`, or in browsers a relative URL such as `/ws` @param {import('./hubbub-client.js').HubbubClientOptions} [options] */
  constructor(url, options = {}) {
    const u = new URL(url, globalThis.location?.href);
    u.protocol = u.protocol.replace(/^http/, 'ws');
    this.#url = u;
    this.#token = options.token; this.#getToken = options.getToken;
    this.#reconnect = options.reconnect ?? true;
    this.#timeoutMs = options.timeoutMs ?? 10000;
    this.#baseMs = options.backoffBaseMs ?? 500; this.#maxMs = options.backoffMaxMs ?? 30000;
    // A WebSocket, or the HTTP transports when one cannot open in time (hubbub-transports.js).
    this.#WebSocket = transportSocket({
      transports: options.transports, fallbackAfterMs: options.fallbackAfterMs, WebSocket: options.WebSocket,
    });
  }
  /** The transport in use (`websocket`, `sse` or `stream`), null while not connected. @returns {string | null} */
  get transport() { return this.#ready ? (/** @type {any} */ (this.#ws)?.transport ?? null) : null; }
  get connected() { return this.#ready; } // welcomed and restored
  /** Resolves with `welcome` data; rejects when the first attempt fails. @returns {Promise<Welcome>} */
  connect() {
    if (this.#ready && this.welcome) return Promise.resolve(this.welcome);
    return new Promise((resolve, reject) => {
      this.#connecting.push({ resolve, reject });
      if (this.#closed) { this.#closed = false; void this.#open(); }
    });
  }
  /** Closes for good: no reconnect; waiting requests fail with `closed`. */
  close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer); clearTimeout(this.#refreshTimer);
    this.#stop(new HubbubError('closed', 'client closed'));
    this.#ws?.close(1000);
  }
  /** @param {string} event @param {(data: any) => void} handler */
  on(event, handler) { this.#handlers.set(event, (this.#handlers.get(event) ?? new Set()).add(handler)); return this; }
  /** @param {string} event @param {(data: any) => void} handler */
  off(event, handler) { this.#handlers.get(event)?.delete(handler); return this; }
  /** Reply data, or a HubbubError with the error frame's code/details; waits while reconnecting.
   * @param {string} event @param {unknown} [data] @param {{timeoutMs?: number}} [options] @returns {Promise<any>} */
  request(event, data, { timeoutMs = this.#timeoutMs } = {}) { return this.#request(event, data, timeoutMs, false); }
  /** Joins a room; its messages are then tracked by seq. @param {string} room */
  async join(room) {
    const reply = await this.request('chat.join', { room });
    const seq = Math.max(reply.seq, ...reply.messages.map((/** @type {Message} */ m) => m.seq));
    this.#rooms.set(room, { seq, filling: false, buffer: [], mine: new Set() });
    return reply;
  }
  /** @param {string} room */
  leave(room) { this.#rooms.delete(room); return this.request('chat.leave', { room }); }
  /** Asks `getToken()` for a new token and sends it with `auth.refresh` (also done on its own before `exp`).
   * @returns {Promise<{exp: number}>} */
  async refresh() {
    if (!this.#getToken) throw new TypeError('refresh() needs the getToken option');
    const token = await this.#getToken();
    const reply = await this.request('auth.refresh', { token });
    this.#token = token;
    /** @type {any} */ (this.#ws)?.useToken?.(token); // an HTTP transport authenticates each send with it
    this.#scheduleRefresh(reply.exp * 1000);
    this.#emit('refreshed', reply);
    return reply;
  }
  /** Resent with the same clientMsgId after a reconnect (stored once); never emitted as `chat.message`. `replyTo`: the
   * seq of the message this one answers.
   * @param {string} room @param {string} text @param {{clientMsgId?: string, timeoutMs?: number, replyTo?: number}} [o] @returns {Promise<Message>} */
  async send(room, text, { clientMsgId = newId(), timeoutMs, replyTo } = {}) {
    this.#own.add(clientMsgId);
    try {
      for (;;) {
        try {
          const { message } = await this.request('chat.send', { room, text, clientMsgId, ...(replyTo === undefined ? {} : { replyTo }) }, { timeoutMs });
          const state = this.#rooms.get(room);
          if (state && message.seq > state.seq) { state.mine.add(message.seq); this.#onChat(message); }
          return message;
        } catch (err) {
          if (!(err instanceof HubbubError && err.code === 'disconnected' && this.#reconnect && !this.#closed)) throw err;
        }
      }
    } finally {
      this.#own.delete(clientMsgId);
    }
  }
  /** @param {string} room @param {boolean} typing */
  typing(room, typing) { return this.request('chat.typing', { room, typing }); }
  /** Each publication once, in order, recovered ones included; `token`: a subscription token (kept for resubscribes).
   * @param {string} channel @param {(p: Publication) => void} [handler] @param {{token?: string}} [options] */
  async subscribe(channel, handler, { token } = {}) {
    /** @type {ChannelState} */
    const state = { offset: null, epoch: null, handler, token };
    this.#channels.set(channel, state);
    const reply = await this.request('channel.subscribe', { channel, ...(token ? { token } : {}) }).catch((err) => {
      this.#channels.delete(channel);
      throw err;
    });
    state.offset = Math.max(state.offset ?? 0, reply.offset); // pushes may have raced the reply
    state.epoch = reply.epoch;
    return reply;
  }
  /** A later subscription token for a channel subscribed to with one (`channel.refresh`): the subscription then ends at
   * its `exp`, and resubscribes use it. @param {string} channel @param {string} token @returns {Promise<{channel: string, exp: number}>} */
  async refreshChannel(channel, token) {
    const reply = await this.request('channel.refresh', { channel, token });
    const state = this.#channels.get(channel);
    if (state) state.token = token;
    return reply;
  }
  /** @param {string} channel */
  unsubscribe(channel) { this.#channels.delete(channel); return this.request('channel.unsubscribe', { channel }); }
  /** @param {string} channel @param {unknown} data @returns {Promise<{offset: number}>} */
  async publish(channel, data) {
    const reply = await this.request('channel.publish', { channel, data });
    const state = this.#channels.get(channel); // own publications are not pushed back: keep the offset contiguous
    if (state && state.offset !== null && reply.offset === state.offset + 1) state.offset = reply.offset;
    return reply;
  }
  /** Sets the presence status; restored after a reconnect. @param {'online' | 'away' | 'busy'} status */
  async setStatus(status) { await this.request('presence.status', { status }); this.#status = status; }

  // ---- internals ----------------------------------------------------------------------------------------------

  /** @param {string} event @param {unknown} data @param {number} timeoutMs @param {boolean} now @returns {Promise<any>} */
  #request(event, data, timeoutMs, now) {
    return new Promise((resolve, reject) => {
      /** @type {Pending} */
      const p = { event, data, resolve, reject };
      p.timer = setTimeout(() => this.#settle(p, new HubbubError('timeout', `${event}: no reply in ${timeoutMs} ms`)), timeoutMs);
      if (this.#closed && !now) this.#settle(p, new HubbubError('closed', 'client is closed'));
      else if (this.#ready || now) this.#transmit(p);
      else this.#queue.push(p);
    });
  }
  /** @param {Pending} p */
  #transmit(p) {
    if (this.#ws?.readyState !== 1) return this.#settle(p, new HubbubError('disconnected', 'not connected'));
    p.id = this.#nextId++;
    this.#pending.set(p.id, p);
    this.#ws.send(JSON.stringify({ event: p.event, data: p.data, id: p.id }));
  }
  /** @param {Pending} p @param {Error | null} err @param {unknown} [value] */
  #settle(p, err, value) {
    clearTimeout(p.timer);
    if (p.id !== undefined) this.#pending.delete(p.id);
    this.#queue = this.#queue.filter((q) => q !== p);
    return err ? p.reject(err) : p.resolve(value);
  }
  async #open() {
    if (this.#getToken && this.#needToken) {
      try { this.#token = await this.#getToken(); } catch (err) { return this.#onClose(1006, String(err)); }
    }
    if (this.#closed) return;
    this.#needToken = false;
    const url = new URL(this.#url);
    // No token: the server authenticates the upgrade another way (a cookie, a header a proxy sets).
    if (this.#token) url.searchParams.set('access_token', this.#token);
    let /** @type {WebSocket} */ ws;
    try { ws = new this.#WebSocket(url.toString()); } catch (err) { return this.#onClose(1006, String(err)); }
    this.#ws = ws;
    ws.onmessage = (ev) => { if (this.#ws === ws) this.#onFrame(String(ev.data)); };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      // An HTTP transport sees the refusal's status itself.
      if (/** @type {any} */ (ev).refused) return this.#onClose(1006, ev.reason, /** @type {any} */ (ev).refused);
      // Closed before the welcome: a refused handshake, whose HTTP status a browser hides ("1006"). Ask why.
      if (ev.code !== 1006 || this.#openedAt > 0) return this.#onClose(ev.code, ev.reason);
      void this.#whyRefused(url).then((why) => this.#ws === ws && this.#onClose(1006, ev.reason, why));
    };
  }
  /**
   * `GET /ws` (no Upgrade) with the same token answers what the handshake got: `{status, reason}`, or null when
   * it would now be accepted or cannot be asked (the close then had another cause, e.g. the network).
   * @param {URL} wsUrl @returns {Promise<{status: number, reason: string} | null>}
   */
  async #whyRefused(wsUrl) {
    try {
      const url = new URL(wsUrl);
      url.protocol = url.protocol.replace(/^ws/, 'http');
      // A browser sends no Origin on a same-origin GET, but does on the upgrade: say which page asks.
      if (globalThis.location?.origin) url.searchParams.set('origin', globalThis.location.origin);
      const res = await fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs) });
      if (res.ok) return null;
      const body = await res.json().catch(() => ({}));
      return { status: res.status, reason: typeof body.message === 'string' ? body.message : res.statusText };
    } catch {
      return null;
    }
  }
  /** @param {string} raw */
  #onFrame(raw) {
    let frame;
    try { frame = JSON.parse(raw); } catch { return; }
    const { event, id, data } = frame;
    const p = id !== undefined ? this.#pending.get(id) : undefined;
    if (p && event === 'error') this.#settle(p, new HubbubError(data?.code ?? 'internal', data?.message ?? 'error', data?.details));
    else if (p) this.#settle(p, null, data);
    else if (event === 'welcome') void this.#onWelcome(data);
    else if (event === 'chat.message') this.#onChat(data);
    else if (event === 'channel.message') this.#onPublication(data);
    else this.#onServerPush(event, data);
  }
  /** Restores rooms, channels and status, then releases queued requests. @param {Welcome} welcome */
  async #onWelcome(welcome) {
    const reconnected = this.welcome !== null;
    this.welcome = welcome;
    this.#openedAt = Date.now();
    this.#skewMs = welcome.serverTime - Date.now();
    this.#scheduleRefresh(expiryOf(this.#token));
    this.#emit('welcome', welcome);
    try {
      await Promise.all([
        ...[...this.#rooms].map(([room, state]) => this.#rejoin(room, state)),
        ...[...this.#channels].map(([channel, state]) => this.#resubscribe(channel, state)),
        this.#status === 'online' ? null : this.#request('presence.status', { status: this.#status }, this.#timeoutMs, true),
      ]);
    } catch (err) {
      if (this.#ws?.readyState !== 1) return; // closed during the restore: the next welcome restores again
      this.#emit('restore.error', err);
    }
    this.#ready = true;
    for (const p of this.#queue.splice(0)) this.#transmit(p);
    this.#emit('connected', { welcome, reconnected });
    for (const c of this.#connecting.splice(0)) c.resolve(welcome);
  }
  /** @param {string} room @param {RoomState} state */
  async #rejoin(room, state) {
    state.filling = true; // pushes wait in the buffer until the catch-up is delivered
    try {
      const reply = await this.#request('chat.join', { room, since: state.seq }, this.#timeoutMs, true);
      await this.#fill(room, state, reply.seq, reply.messages);
    } finally {
      state.filling = false;
    }
    this.#drain(room, state);
  }
  /** Delivers `batch`, then pages chat.history until `state.seq` reaches `target`. @param {string} room @param {RoomState} state @param {number} target @param {Message[]} batch */
  async #fill(room, state, target, batch) {
    for (;;) {
      for (const m of batch.sort(byId)) this.#accept(state, m);
      if (state.seq >= target) return;
      const reply = await this.#request('chat.history', { room, after: state.seq, limit: 100 }, this.#timeoutMs, true);
      if (!reply.messages.length) return;
      batch = reply.messages;
    }
  }
  /** @param {string} room @param {RoomState} state */
  #drain(room, state) {
    for (const m of state.buffer.splice(0).sort(byId)) if (this.#rooms.get(room) === state) this.#onChat(m);
  }
  /** A pushed or own message: deduped by seq; a gap is filled from chat.history first. @param {Message} m */
  #onChat(m) {
    const state = this.#rooms.get(m.room);
    if (!state) return this.#emit('chat.message', m); // e.g. a DM in a room not joined
    if (state.filling) return void state.buffer.push(m);
    if (m.seq <= state.seq) return void state.mine.delete(m.seq);
    if (m.seq === state.seq + 1) return this.#accept(state, m);
    state.buffer.push(m);
    state.filling = true;
    this.#fill(m.room, state, m.seq - 1, []).then(
      () => { state.filling = false; this.#drain(m.room, state); },
      () => { state.filling = false; state.buffer.length = 0; }, // disconnected: the rejoin catches up
    );
  }
  /** @param {RoomState} state @param {Message} m */
  #accept(state, m) {
    if (m.seq <= state.seq) return;
    state.seq = m.seq;
    if (state.mine.delete(m.seq)) return;
    if (m.clientMsgId && this.#own.has(m.clientMsgId) && m.userId === this.welcome?.userId) return;
    this.#emit('chat.message', m);
  }
  /** @param {string} channel @param {ChannelState} state */
  async #resubscribe(channel, state) {
    const position = state.offset !== null && state.epoch !== null ? { since: state.offset, epoch: state.epoch } : {};
    const token = state.token ? { token: state.token } : {};
    const reply = await this.#request('channel.subscribe', { channel, ...position, ...token }, this.#timeoutMs, true);
    if (reply.epoch !== state.epoch) {
      // Offsets restarted on the server (new epoch): the old position means nothing, start from the new one.
      state.epoch = reply.epoch;
      state.offset = reply.offset;
    } else {
      for (const p of reply.publications) this.#onPublication(p);
      state.offset = Math.max(state.offset ?? 0, reply.offset);
    }
    if (position.since !== undefined && !reply.recovered) this.#emit('channel.recovery', { channel, recovered: false, offset: reply.offset, epoch: reply.epoch });
  }
  /** Pushes that change what the client tracks (the server API, a refresh that took rights away), then listeners.
   * @param {string} event @param {any} data */
  #onServerPush(event, data) {
    if (event === 'channel.subscribed') {
      const handler = this.#channels.get(data.channel)?.handler;
      this.#channels.set(data.channel, { offset: data.offset, epoch: data.epoch, handler });
    } else if (event === 'channel.unsubscribed') this.#channels.delete(data.channel);
    else if (event === 'chat.left') this.#rooms.delete(data.room);
    this.#emit(event, data);
  }
  /** Schedules `auth.refresh` about 30 s before `expMs` (sooner for short tokens); only with getToken. @param {number | null} expMs */
  #scheduleRefresh(expMs) {
    clearTimeout(this.#refreshTimer);
    if (!this.#getToken || expMs === null) return;
    const left = expMs - (Date.now() + this.#skewMs);
    const delay = Math.max(1000, Math.min(left - REFRESH_BEFORE_MS, left / 2));
    this.#refreshTimer = setTimeout(() => {
      if (!this.#ready || this.#closed) return; // the next welcome schedules again
      this.refresh().catch((err) => this.#emit('refresh.error', err)); // the server closes 4401 at exp; reconnect asks again
    }, delay);
    this.#refreshTimer?.unref?.();
  }
  /** @param {Publication} p */
  #onPublication(p) {
    const state = this.#channels.get(p.channel);
    if (state && state.offset !== null && p.offset <= state.offset) return;
    if (state) state.offset = p.offset;
    state?.handler?.(p);
    this.#emit('channel.message', p);
  }
  /** @param {number} code @param {string} reason @param {{status: number, reason: string} | null} [refused] */
  #onClose(code, reason, refused = null) {
    const wasUp = this.#openedAt > 0; // welcomed; a refused handshake (401 included) closes before that
    if (wasUp && Date.now() - this.#openedAt >= STABLE_AFTER_MS) this.#attempt = 0;
    this.#ws = null; this.#ready = false; this.#openedAt = 0;
    clearTimeout(this.#refreshTimer);
    const why = refused ? `handshake refused: ${refused.reason} (HTTP ${refused.status})` : `connection closed (${code})`;
    const details = refused ? { code, status: refused.status, reason: refused.reason } : { code };
    for (const p of [...this.#pending.values()]) this.#settle(p, new HubbubError('disconnected', why, details));
    const firstAttempt = this.#connecting.length > 0 && this.welcome === null;
    const reconnecting = !this.#closed && this.#reconnect && !firstAttempt && !TERMINAL_CLOSE_CODES.has(code) &&
      (code !== 4401 || !!this.#getToken);
    this.#emit('disconnected', { code, reason: refused?.reason ?? reason, status: refused?.status, reconnecting });
    if (this.#closed) return;
    if (!reconnecting) {
      this.#closed = true;
      return this.#stop(new HubbubError(refused ? 'refused' : 'closed', why, details));
    }
    if (code === 4401 || !wasUp) this.#needToken = true; // expired, or the handshake failed (maybe a 401): new token
    const delay = Math.random() * Math.min(this.#maxMs, this.#baseMs * 2 ** this.#attempt++);
    this.#retryTimer = setTimeout(() => void this.#open(), delay);
  }
  /** @param {HubbubError} err */
  #stop(err) {
    this.#ready = false;
    for (const p of [...this.#pending.values(), ...this.#queue]) this.#settle(p, err);
    for (const c of this.#connecting.splice(0)) c.reject(err);
  }
  /** @param {string} event @param {unknown} data */
  #emit(event, data) {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) try { handler(data); } catch (err) { console.error(err); }
  }
}
// edit, delete, react, reactions, thread, search, unread, markRead, forget and the room moderation methods
installChatMethods(HubbubClient);
