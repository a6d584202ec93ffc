#!/usr/bin/env node
/**
 * The load client of `npm run bench` (scripts/bench/run.mjs): one process, driven over IPC, that holds every
 * WebSocket and speaks to all four servers with the same code. A minimal client on raw TCP (not the `ws` client)
 * so that it is not the bottleneck: a received frame costs a header read and a prefix comparison; one in
 * `sampleEvery` is parsed, checked and timed against the publish timestamp it carries.
 *
 * Two wire dialects over the same frames: `hubbub` (Hubbub and both plain-ws servers: `{event, id, data}` JSON
 * on /ws, JWT in the Authorization header, replies by `id`) and `socketio` (Engine.IO 4 over a WebSocket on
 * /socket.io/: `40{"token"}` to connect with the JWT, `42<id>[event, data]` requests, `43<id>[reply]` acks, `2`→`3`
 * heartbeats, pushes as `42["channel.message", …]`).
 */
import { createHash, createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { connect } from 'node:net';

const DIALECTS = {
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

const load = {
  dialect: DIALECTS.hubbub,
  port: 0,
  secret: '',
  sources: ['127.0.0.1'],
  conns: [],
  subscribed: 0,
};
let opened = 0;

class BenchSocket {
  static open(port, token) {
    const d = load.dialect;
    const localAddress = load.sources[opened++ % load.sources.length];
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      const key = randomBytes(16).toString('base64');
      let head = Buffer.alloc(0);
      const fail = (err) => (socket.destroy(), reject(err));
      socket.once('error', fail);
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

  close() {
    this.socket.destroy();
  }
}

function signToken(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** Opens `count` connections, `concurrency` handshakes at a time; user names from `claimsFor(i)`. */
async function connectMany(count, claimsFor, concurrency = 100, port = load.port) {
  const conns = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      conns[i] = await BenchSocket.open(port, signToken(load.secret, claimsFor(i)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return conns;
}

/** ≈ 100 bytes of `data` per publication, the publish time in `t` (this process's clock: no sync needed). */
const PAD = 'x'.repeat(64);
const payload = (i) => ({ t: performance.now(), i, pad: PAD });

function stats(sorted) {
  const at = (p) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
  return { p50: at(0.5), p99: at(0.99), samples: sorted.length };
}

/** Every connection in `conns` counts `channel.message` frames; one in `sampleEvery` is parsed and timed. */
function countDeliveries(conns, sampleEvery, expected) {
  const d = load.dialect;
  const prefix = d.pushPrefix;
  const run = { expected, received: 0, lastAt: 0, latencies: [], bad: 0 };
  run.done = new Promise((resolve) => (run.finish = resolve));
  conns.forEach((conn, index) => {
    let countdown = (index % sampleEvery) + 1;
    conn.onText = (buf, start, end) => {
      if (
        end - start < prefix.length ||
        buf.compare(prefix, 0, prefix.length, start, start + prefix.length) !== 0
      ) {
        if (end - start === 1 && buf[start] === 0x32) conn.sendText('3'); // Engine.IO heartbeat
        return;
      }
      run.received++;
      run.lastAt = performance.now();
      if (--countdown === 0) {
        countdown = sampleEvery;
        const t = d.publication(buf.toString('utf8', start, end))?.data?.t;
        if (typeof t === 'number') run.latencies.push(performance.now() - t);
        else run.bad++;
      }
      if (run.received === run.expected) run.finish();
    };
  });
  return run;
}

async function untilDoneOrStalled(run, stallMs = 3000) {
  let seen = -1;
  let timer;
  const stalled = new Promise((resolve) => {
    timer = setInterval(() => (run.received === seen ? resolve() : (seen = run.received)), stallMs);
  });
  await Promise.race([run.done, stalled]);
  clearInterval(timer);
}

function publisher(port) {
  load.publishers ??= new Map();
  if (!load.publishers.has(port)) {
    const token = signToken(load.secret, { sub: `publisher-${port}`, roles: ['admin'] });
    load.publishers.set(port, BenchSocket.open(port, token));
  }
  return load.publishers.get(port);
}

const commands = {
  init(args) {
    Object.assign(load, args, { dialect: DIALECTS[args.dialect] });
  },

  /** Opens connections until `upTo` are held, 100 handshakes at a time; returns connects/s of this batch. */
  async connect({ upTo, concurrency = 100 }) {
    const have = load.conns.length;
    if (upTo <= have) return { connectsPerSec: NaN };
    const t0 = performance.now();
    const conns = await connectMany(upTo - have, (i) => ({ sub: `user-${have + i}` }), concurrency);
    const seconds = (performance.now() - t0) / 1000;
    load.conns.push(...conns);
    return { count: conns.length, seconds, connectsPerSec: conns.length / seconds };
  },

  /** Subscribes connections [subscribed, upTo) to `channel`, 500 requests in flight at most. */
  async subscribe({ upTo, channel }) {
    const batch = load.conns.slice(load.subscribed, upTo);
    for (let i = 0; i < batch.length; i += 500)
      await Promise.all(
        batch.slice(i, i + 500).map((c) => c.request('channel.subscribe', { channel })),
      );
    load.subscribed = Math.max(load.subscribed, upTo);
  },

  closeAll() {
    for (const conn of load.conns) conn.close();
    load.conns = [];
    load.subscribed = 0;
  },

  /** `messages` publications, `window` in flight, to the first `subscribers` connections. */
  async fanout({
    subscribers,
    messages,
    channel,
    window,
    sampleEvery,
    maxMs = Infinity,
    publishPort = load.port,
  }) {
    const pub = await publisher(publishPort);
    const conns = load.conns.slice(0, subscribers);
    const run = countDeliveries(conns, sampleEvery, subscribers * messages);
    const t0 = performance.now();
    // Bounded in time: past maxMs no new publication goes out, and the run counts what was published.
    const published = await new Promise((resolve, reject) => {
      let sent = 0;
      let acked = 0;
      const sendOne = () => {
        const i = sent++;
        pub.request('channel.publish', { channel, data: payload(i) }).then(() => {
          acked++;
          const more = sent < messages && performance.now() - t0 < maxMs;
          if (more) sendOne();
          else if (acked === sent) resolve(sent);
        }, reject);
      };
      for (let k = 0; k < Math.min(window, messages); k++) sendOne();
    });
    run.expected = subscribers * published;
    if (run.received >= run.expected) run.finish();
    await untilDoneOrStalled(run);
    for (const c of conns) c.onText = c.onJson;
    if (run.received === 0) throw new Error('no channel.message frame arrived');
    const elapsedMs = run.lastAt - t0;
    return {
      expected: run.expected,
      received: run.received,
      bad: run.bad,
      deliveriesPerSec: run.received / (elapsedMs / 1000),
      ...stats(run.latencies.sort((a, b) => a - b)),
    };
  },

  /** Publications at a fixed rate (not waiting for replies); every delivered frame timed. */
  async rate({ subscribers, perSec, seconds, channel, publishPort = load.port }) {
    const pub = await publisher(publishPort);
    const conns = load.conns.slice(0, subscribers);
    const messages = Math.max(1, Math.round(perSec * seconds));
    const run = countDeliveries(conns, 1, subscribers * messages);
    for (let i = 0; i < messages; i++) {
      void pub.request('channel.publish', { channel, data: payload(i) });
      await new Promise((r) => setTimeout(r, 1000 / perSec));
    }
    await untilDoneOrStalled(run);
    for (const c of conns) c.onText = c.onJson;
    return {
      expected: run.expected,
      received: run.received,
      ...stats(run.latencies.sort((a, b) => a - b)),
    };
  },

  /** Opens `connections` request clients (own users); for chat.send each joins room `bench.r<i % rooms>`. */
  async prepareRequests({ connections, event, rooms = 100 }) {
    load.requesters = await connectMany(connections, (i) => ({ sub: `req-${i}` }));
    if (event === 'chat.send')
      await Promise.all(
        load.requesters.map((c, i) => c.request('chat.join', { room: `bench.r${i % rooms}` })),
      );
  },

  /** Each request client sends `perSec` `event` requests per second for `seconds`, spread evenly over time. */
  async driveRequests({ perSec, seconds, event, rooms = 100 }) {
    const conns = load.requesters;
    const data = (i, n) =>
      event === 'chat.send' ? { room: `bench.r${i % rooms}`, text: `message ${n} from ${i}` } : {};
    let replies = 0;
    let errors = 0;
    let firstError;
    const t0 = performance.now();
    const ticks = Math.round(seconds * perSec);
    const slices = 10; // each 1/perSec s is cut in 10 slices, one tenth of the clients each
    for (let tick = 0; tick < ticks; tick++) {
      for (let s = 0; s < slices; s++) {
        for (let i = s; i < conns.length; i += slices)
          conns[i].request(event, data(i, tick)).then(
            () => replies++,
            (err) => ((firstError ??= err.message), errors++),
          );
        const due = t0 + ((tick * slices + s + 1) * 1000) / perSec / slices;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      }
    }
    const sent = ticks * conns.length;
    const deadline = performance.now() + 5000;
    while (replies + errors < sent && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    return { sent, replies, errors, firstError, elapsed: (performance.now() - t0) / 1000 };
  },

  closeRequesters() {
    for (const c of load.requesters ?? []) c.close();
    load.requesters = [];
  },
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    process.send({ id, result: await commands[cmd](args) });
  } catch (err) {
    process.send({ id, error: err?.stack ?? String(err) });
  }
});
process.on('SIGTERM', () => process.exit(0));
