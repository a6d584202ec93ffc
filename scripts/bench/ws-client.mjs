/**
 * The WebSocket client of the bench's load client (scripts/bench/load-client.mjs): a minimal client on raw TCP, not
 * the `ws` client, so that it is not the bottleneck when it receives as many frames as a server sends to thousands
 * of subscribers. A received text frame costs a header read and a call to `onText(buffer, start, end)`: no copy and
 * no UTF-8 decoding; whoever needs the JSON parses it. Server frames are never masked or fragmented (Hubbub, ws and
 * Engine.IO send whole frames). `onText` starts as `onJson` (every frame parsed, replies settle their request,
 * pushes ignored); load-client.mjs swaps in a counting handler for fan-out.
 *
 * Two wire dialects over the same frames: `hubbub` (Hubbub and both plain-ws servers: `{event, id, data}` JSON
 * on /ws, JWT in the Authorization header, replies by `id`) and `socketio` (Engine.IO 4 over a WebSocket on
 * /socket.io/: `40{"token"}` to connect with the JWT, `42<id>[event, data]` requests, `43<id>[reply]` acks, `2`→`3`
 * heartbeats, pushes as `42["channel.message", …]`).
 */
import { createHash, createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { connect } from 'node:net';

export const DIALECTS = {
  hubbub: {
    path: '/ws',
    header: (token) => `Authorization: Bearer ${token}\r\n`,
    hello: () => undefined,
    pushPrefix: Buffer.from('{"event":"channel.message"'),
    encode: (event, id, data) => JSON.stringify({ event, id, data }),
    /** → ['welcome'] | ['reply', id, data] | ['error', id, message] | ['push'] | ['pong'] */
    decode(text) {
      const m = JSON.parse(text);
      if (m.event === 'welcome') return ['welcome'];
      if (m.id === undefined) return ['push'];
      if (m.event === 'error') return ['error', m.id, `${m.data.code}: ${m.data.message}`];
      return ['reply', m.id, m.data];
    },
    publication: (text) => JSON.parse(text).data,
  },
  socketio: {
    path: '/socket.io/?EIO=4&transport=websocket',
    header: () => '',
    hello: (token) => `40${JSON.stringify({ token })}`,
    pushPrefix: Buffer.from('42["channel.message"'),
    encode: (event, id, data) => `42${id}${JSON.stringify([event, data])}`,
    decode(text) {
      if (text === '2') return ['pong'];
      if (text.startsWith('40')) return ['welcome'];
      if (text.startsWith('44')) return ['error', undefined, text];
      if (text.startsWith('43')) {
        const at = text.indexOf('[');
        return ['reply', Number(text.slice(2, at)), JSON.parse(text.slice(at))[0]];
      }
      return ['push'];
    },
    publication: (text) => JSON.parse(text.slice(2))[1],
  },
};

export class BenchSocket {
  /** Resolves once the server's welcome arrives; `localAddress` picks the source address (default 127.0.0.1). */
  static open(port, token, { dialect = DIALECTS.hubbub, localAddress } = {}) {
    const d = dialect;
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      const key = randomBytes(16).toString('base64');
      let head = Buffer.alloc(0);
      const fail = (err) => (socket.destroy(), reject(err));
      // A server that cuts the socket before answering (a cap on pending handshakes, say) must fail the open, not
      // leave it waiting forever.
      const cut = () => fail(new Error('connection closed before the handshake answer'));
      socket.once('error', fail);
      socket.once('close', cut);
      socket.once('connect', () => {
        socket.setNoDelay(true);
        socket.write(
          `GET ${d.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${d.header(token)}\r\n`,
        );
      });
      const onHead = (chunk) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onHead);
        socket.off('error', fail);
        socket.off('close', cut);
        const response = head.toString('latin1', 0, end);
        const accept = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        if (!/^HTTP\/1\.1 101 /.test(response) || !response.includes(accept))
          return fail(new Error(`handshake refused: ${response.split('\r\n')[0]}`));
        const ws = new BenchSocket(socket, d);
        ws.welcome.then(() => resolve(ws), reject);
        ws.feed(head.subarray(end + 4));
        const hello = d.hello(token);
        if (hello) ws.sendText(hello);
      };
      socket.on('data', onHead);
    });
  }

  constructor(socket, dialect) {
    this.socket = socket;
    this.dialect = dialect;
    this.rest = null;
    this.pending = new Map();
    this.nextId = 1;
    this.onText = this.onJson;
    this.welcome = new Promise((resolve, reject) => {
      this.onWelcome = resolve;
      this.onRefused = reject;
      socket.once('close', () => reject(new Error('closed before welcome')));
    });
    socket.on('data', (chunk) => this.feed(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const w of this.pending.values()) w.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  feed(chunk) {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let pos = 0;
    while (buf.length - pos >= 2) {
      let length = buf[pos + 1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - pos < 4) break;
        length = buf.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - pos < 10) break;
        length = Number(buf.readBigUInt64BE(pos + 2));
        header = 10;
      }
      const end = pos + header + length;
      if (end > buf.length) break;
      const op = buf[pos] & 0x0f;
      if (op === 0x1) this.onText(buf, pos + header, end);
      else if (op === 0x9) this.sendFrame(0x8a, buf.subarray(pos + header, end));
      else if (op === 0x8) this.socket.end();
      pos = end;
    }
    if (pos < buf.length) this.rest = buf.subarray(pos);
  }

  /** Setup mode: every text frame parsed; replies settle their request. */
  onJson(buf, start, end) {
    const [kind, id, data] = this.dialect.decode(buf.toString('utf8', start, end));
    if (kind === 'welcome') return this.onWelcome();
    if (kind === 'pong') return this.sendText('3');
    if (kind === 'error' && id === undefined) return this.onRefused(new Error(data));
    const waiter = id === undefined ? undefined : this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (kind === 'error') waiter.reject(new Error(data));
    else waiter.resolve(data);
  }

  request(event, data) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sendText(this.dialect.encode(event, id, data));
    });
  }

  sendText(text) {
    this.sendFrame(0x81, Buffer.from(text));
  }

  sendFrame(first, payload) {
    const n = payload.length;
    const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(header + 4 + n);
    frame[0] = first;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) ((frame[1] = 0x80 | 126), frame.writeUInt16BE(n, 2));
    else ((frame[1] = 0x80 | 127), frame.writeBigUInt64BE(BigInt(n), 2));
    randomFillSync(frame, header, 4);
    for (let i = 0; i < n; i++) frame[header + 4 + i] = payload[i] ^ frame[header + (i & 3)];
    this.socket.write(frame);
  }

  /**
   * Closes with a TCP reset. A normal close leaves this side in TIME_WAIT for 60 s: after one server's phases the
   * load client held some 20,000 such ports on its two source addresses, its bind() calls for the next server's
   * handshakes slowed down, and connects/s then depended on which servers had run before.
   */
  close() {
    this.socket.resetAndDestroy();
  }
}

/** HS256 JWT signed with node:crypto, as Hubbub's TokenVerifier and scripts/bench/common.mjs accept it. */
export function signToken(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
