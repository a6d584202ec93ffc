// Hubbub client transports: the same frames over a WebSocket, Server-Sent Events (`GET /sse`) or a streamed
// response (`POST /stream`), the client's frames posted to `POST /stream/send`. Each HTTP transport is shaped like a
// WebSocket (readyState, send, close, onopen/onmessage/onclose), so the SDK drives them all the same way, and
// `FallbackSocket` picks one: a WebSocket first, then the next transport when it has not opened within
// `fallbackAfterMs`; the transport that worked is remembered for the page's session (sessionStorage).

/** @typedef {'websocket' | 'sse' | 'stream'} TransportName */

export const TRANSPORT_NAMES = /** @type {const} */ (['websocket', 'sse', 'stream']);
const STORAGE_KEY = 'hubbub.transport';
const MAX_FRAMES_PER_SEND = 64; // the server's bound per POST /stream/send
const CONNECTING = 0, OPEN = 1, CLOSED = 3;

/** The transport that worked last in this page's session, if it is one of `allowed`. @param {readonly string[]} allowed */
function remembered(allowed) {
  try {
    const name = globalThis.sessionStorage?.getItem(STORAGE_KEY);
    return name && allowed.includes(name) ? name : null;
  } catch {
    return null; // storage disabled
  }
}

/** @param {string} name */
function remember(name) {
  try { globalThis.sessionStorage?.setItem(STORAGE_KEY, name); } catch { /* storage disabled */ }
}

/** `ws(s)://host/ws?access_token=…` → the HTTP base (`http(s)://host`, the socket path's parent) and the token. @param {string} wsUrl */
function httpEndpoint(wsUrl) {
  const url = new URL(wsUrl);
  url.protocol = url.protocol.replace(/^ws/, 'http');
  const token = url.searchParams.get('access_token');
  url.searchParams.delete('access_token');
  const base = url.pathname.replace(/\/ws\/?$/, '').replace(/\/$/, '');
  return { origin: url.origin, base, query: url.search, token };
}

/**
 * One HTTP stream session, shaped like a WebSocket. `OPEN` from the `welcome` frame (which names the session);
 * frames sent are batched per turn (at most 64 per POST) and posted one request at a time, so they arrive in order.
 * A refused open closes with code 1006 and `refused: {status, reason}` on the close event (the HTTP status is
 * visible here, unlike a refused WebSocket handshake's); the server's close notice closes with its code.
 */
export class HttpStreamSocket {
  readyState = CONNECTING;
  /** @type {((ev: object) => void) | null} */ onopen = null;
  /** @type {((ev: {data: string}) => void) | null} */ onmessage = null;
  /** @type {((ev: {code: number, reason: string, refused?: {status: number, reason: string}}) => void) | null} */ onclose = null;
  /** @type {((ev: object) => void) | null} */ onerror = null;
  #endpoint; #kind; #abort = new AbortController(); #session = ''; /** @type {string[]} */ #outbox = [];
  #sending = false; #closed = false; /** @type {any} */ #pinger;

  /** @param {string} wsUrl @param {'sse' | 'stream'} kind */
  constructor(wsUrl, kind) {
    this.#endpoint = httpEndpoint(wsUrl);
    this.#kind = kind;
    this.transport = kind;
    void this.#run();
  }

  /** The token later sends carry (after `auth.refresh`). @param {string} token */
  useToken(token) { this.#endpoint.token = token; }

  /** @param {string} text one frame */
  send(text) {
    if (this.readyState !== OPEN) return;
    this.#outbox.push(text);
    if (this.#outbox.length === 1 && !this.#sending) queueMicrotask(() => void this.#flush());
  }

  close(code = 1000, reason = '') {
    if (this.readyState === CLOSED) return;
    this.#abort.abort();
    this.#finish(code, reason);
  }

  #headers(json = false) {
    /** @type {Record<string, string>} */
    const headers = json ? { 'content-type': 'application/json' } : {};
    if (this.#endpoint.token) headers.authorization = `Bearer ${this.#endpoint.token}`;
    return headers;
  }

  async #run() {
    const { origin, base, query } = this.#endpoint;
    const sse = this.#kind === 'sse';
    // clientPings: this client sends a frame every half heartbeat, so the server drops it within two heartbeats
    // when it vanishes (HTTP has no pong).
    const params = new URLSearchParams(query);
    params.set('clientPings', '1');
    let res;
    try {
      res = await fetch(`${origin}${base}/${sse ? 'sse' : 'stream'}?${params}`, {
        method: sse ? 'GET' : 'POST',
        headers: this.#headers(!sse),
        body: sse ? undefined : '{}',
        cache: 'no-store',
        signal: this.#abort.signal,
      });
    } catch (err) {
      return this.#finish(1006, String(err));
    }
    if (!res.ok || !res.body) {
      const body = await res.json().catch(() => ({}));
      const reason = typeof body.message === 'string' ? body.message : res.statusText;
      return this.#finish(1006, reason, { status: res.status, reason });
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    const separator = sse ? '\n\n' : '\n';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let at;
        while ((at = buffered.indexOf(separator)) >= 0) {
          const block = buffered.slice(0, at);
          buffered = buffered.slice(at + separator.length);
          if (sse ? this.#onEvent(block) : this.#onLine(block)) return;
        }
      }
    } catch {
      // aborted, or the network dropped the response
    }
    this.#finish(1006, 'stream ended');
  }

  /** One SSE event; true once the stream is over. @param {string} block */
  #onEvent(block) {
    if (block === '' || block.startsWith(':')) return false; // heartbeat
    let event = 'message', data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
    }
    if (event === 'close') return this.#onNotice(data);
    this.#onFrame(data);
    return false;
  }

  /** One JSON line; true once the stream is over. @param {string} line */
  #onLine(line) {
    if (line === '') return false; // heartbeat
    if (line.startsWith('{"close":')) return this.#onNotice(JSON.stringify(JSON.parse(line).close));
    this.#onFrame(line);
    return false;
  }

  /** @param {string} json */
  #onNotice(json) {
    const { code, reason } = JSON.parse(json);
    this.#abort.abort();
    this.#finish(code, reason ?? '');
    return true;
  }

  /** @param {string} text */
  #onFrame(text) {
    if (this.readyState === CONNECTING) {
      let frame;
      try { frame = JSON.parse(text); } catch { return; }
      if (frame.event !== 'welcome' || typeof frame.data?.session !== 'string') return;
      this.#session = frame.data.session;
      this.readyState = OPEN;
      const every = Math.max(50, (Number(frame.data.heartbeatMs) || 25000) / 2);
      this.#pinger = setInterval(() => this.send('{"event":"ping"}'), every);
      this.#pinger.unref?.();
      this.onopen?.({});
    }
    if (this.readyState === OPEN) this.onmessage?.({ data: text });
  }

  /** Posts what is queued, one request at a time; a failed send ends the session (the SDK reconnects). */
  async #flush() {
    if (this.#sending) return;
    this.#sending = true;
    while (this.#outbox.length > 0 && this.readyState === OPEN) {
      const texts = this.#outbox.splice(0, MAX_FRAMES_PER_SEND);
      const { origin, base } = this.#endpoint;
      try {
        const res = await fetch(`${origin}${base}/stream/send`, {
          method: 'POST',
          headers: this.#headers(true),
          // Frames as their text: the server handles each exactly as a socket's text frame.
          body: JSON.stringify({ session: this.#session, frames: texts }),
          signal: this.#abort.signal,
        });
        if (res.status !== 202) {
          this.#abort.abort();
          this.#finish(1006, `send refused (HTTP ${res.status})`);
        }
      } catch (err) {
        this.#abort.abort();
        this.#finish(1006, String(err));
      }
    }
    this.#sending = false;
  }

  /** @param {number} code @param {string} reason @param {{status: number, reason: string}} [refused] */
  #finish(code, reason, refused) {
    if (this.#closed) return;
    this.#closed = true;
    this.readyState = CLOSED;
    clearInterval(this.#pinger);
    this.#outbox.length = 0;
    const onclose = this.onclose;
    // Asynchronous like a WebSocket's close event, also when close() was called.
    queueMicrotask(() => onclose?.({ code, reason, ...(refused ? { refused } : {}) }));
  }
}

/**
 * What a WebSocket handshake with this URL's token would get, from `GET /ws` without an Upgrade (a browser hides a
 * refused handshake's status): `{status, reason}` for a refusal, null when it would be accepted or cannot be asked.
 * @param {string} wsUrl @returns {Promise<{status: number, reason: string} | null>}
 */
async function handshakeRefusal(wsUrl) {
  try {
    const url = new URL(wsUrl);
    url.protocol = url.protocol.replace(/^ws/, 'http');
    // A browser sends no Origin on a same-origin GET, but does on the upgrade: say which page asks.
    if (globalThis.location?.origin) url.searchParams.set('origin', globalThis.location.origin);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (res.ok) return null;
    const body = await res.json().catch(() => ({}));
    return { status: res.status, reason: typeof body.message === 'string' ? body.message : res.statusText };
  } catch {
    return null;
  }
}

/**
 * Opens the first transport of `transports` (or the one remembered for this page's session) that works: a
 * WebSocket that is not open within `fallbackAfterMs`, or fails before opening for another reason than a refused
 * handshake (401, 403, 429, 503: the server's answer, reported as it is, never worked around), gives way to the next
 * one. Shaped like a WebSocket; `transport` names the one in use once open. A `WebSocket` implementation given
 * without `transports` is used alone (the caller chose how to connect).
 */
export class FallbackSocket {
  readyState = CONNECTING;
  /** @type {TransportName | null} */ transport = null;
  /** @type {((ev: object) => void) | null} */ onopen = null;
  /** @type {((ev: {data: string}) => void) | null} */ onmessage = null;
  /** @type {((ev: any) => void) | null} */ onclose = null;
  /** @type {any} */ #current = null;
  /** @type {any} the WebSocket's close event, when it failed before opening */ #wsFailure = null;
  #url; #order; #fallbackAfterMs; #WebSocket; #closing = false;

  /**
   * @param {string} url the WebSocket URL (with `access_token` when there is one)
   * @param {{transports?: readonly TransportName[], fallbackAfterMs?: number, WebSocket?: any}} [options]
   */
  constructor(url, options = {}) {
    this.#url = url;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    // No WebSocket in this environment (or taken away from the page): the HTTP transports only.
    const wanted = options.transports ?? (options.WebSocket ? ['websocket'] : TRANSPORT_NAMES);
    const allowed = wanted.filter(
      (t) => TRANSPORT_NAMES.includes(t) && (t !== 'websocket' || typeof this.#WebSocket === 'function'),
    );
    if (allowed.length === 0) throw new Error('transports: none of websocket, sse, stream is available');
    const start = remembered(allowed);
    this.#order = start ? [start, ...allowed.filter((t) => t !== start)] : allowed;
    this.#fallbackAfterMs = options.fallbackAfterMs ?? 3000;
    this.#attempt(0);
  }

  /** @param {string} text */
  send(text) { this.#current?.send(text); }

  /** @param {string} token */
  useToken(token) { this.#current?.useToken?.(token); }

  close(code = 1000, reason = '') {
    this.#closing = true;
    this.#current?.close(code, reason);
  }

  /** @param {number} index */
  #attempt(index) {
    const name = this.#order[index];
    const last = index === this.#order.length - 1;
    /** @type {any} */
    let socket;
    try {
      socket = name === 'websocket' ? new this.#WebSocket(this.#url) : new HttpStreamSocket(this.#url, name);
    } catch (err) {
      if (!last) return this.#attempt(index + 1);
      this.readyState = CLOSED;
      return queueMicrotask(() => this.onclose?.({ code: 1006, reason: String(err) }));
    }
    this.#current = socket;
    // Only a WebSocket can hang (a proxy holding the upgrade); an HTTP transport's open fails or succeeds.
    const timer = name === 'websocket' && !last
      ? setTimeout(() => {
        if (this.#current !== socket || socket.readyState === OPEN) return;
        this.#current = null;
        socket.onclose = null;
        try { socket.close(); } catch { /* not open yet */ }
        this.#attempt(index + 1);
      }, this.#fallbackAfterMs)
      : undefined;
    socket.onopen = (/** @type {object} */ ev) => {
      clearTimeout(timer);
      if (this.#current !== socket) return;
      this.readyState = OPEN;
      this.transport = name;
      if (index > 0 || name !== 'websocket') remember(name);
      this.onopen?.(ev);
    };
    socket.onmessage = (/** @type {{data: string}} */ ev) => {
      if (this.#current === socket) this.onmessage?.(ev);
    };
    socket.onclose = (/** @type {any} */ ev) => {
      clearTimeout(timer);
      if (this.#current !== socket) return;
      if (this.readyState === CONNECTING && name === 'websocket' && !last && !this.#closing) {
        this.#wsFailure = ev;
        return void handshakeRefusal(this.#url).then((refused) => {
          if (this.#current !== socket || this.#closing) return;
          // Refused by the server (not 404: no WebSocket endpoint there): the answer stands, on every transport.
          if (refused && refused.status !== 404) return this.#fail({ code: 1006, reason: refused.reason, refused });
          this.#attempt(index + 1);
        });
      }
      if (this.readyState === CONNECTING && !last && !this.#closing) return this.#attempt(index + 1);
      // Every transport failed, the HTTP ones with 404 (the server serves none of them): the WebSocket's failure
      // is the one that tells why.
      this.#fail(ev.refused?.status === 404 && this.#wsFailure ? this.#wsFailure : ev);
    };
  }

  /** @param {any} ev */
  #fail(ev) {
    this.readyState = CLOSED;
    this.onclose?.(ev);
  }
}

/**
 * What the SDK constructs per connection attempt: `new (transportSocket(options))(url)`.
 * @param {{transports?: readonly TransportName[], fallbackAfterMs?: number, WebSocket?: any}} options
 */
export function transportSocket(options) {
  return class extends FallbackSocket {
    /** @param {string} url */
    constructor(url) { super(url, options); }
  };
}
