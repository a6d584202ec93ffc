#!/usr/bin/env node
/**
 * The load client of `npm run bench` (scripts/bench/run.mjs, and the `chat` phase of scripts/bench.mjs): one
 * process, driven over IPC (harness.mjs startLoadClient), that holds every WebSocket and speaks to all four servers
 * with the same code: the raw-TCP client of ws-client.mjs, in its `hubbub` or `socketio` dialect. A received push
 * costs a header read and a prefix comparison; one in `sampleEvery` is parsed, checked and timed against the publish
 * timestamp it carries.
 */
import { serveCommands } from './harness.mjs';
import { BenchSocket, DIALECTS, signToken } from './ws-client.mjs';

const load = {
  dialect: DIALECTS.hubbub,
  port: 0,
  secret: '',
  sources: ['127.0.0.1'],
  conns: [],
  subscribed: 0,
};
let opened = 0;

/**
 * A connection from the next of `load.sources` (round robin), in the dialect of `init`. With one source, no
 * `localAddress`: an explicit one makes Node bind() before connect(), and the kernel then picks the port among every
 * port of that address in use (slow with thousands of them: a storm of 5,000 spent seconds in bind() before its
 * requests went out), where connect() alone picks one free for this destination.
 */
const open = (port, token) =>
  BenchSocket.open(port, token, {
    dialect: load.dialect,
    localAddress:
      load.sources.length > 1 ? load.sources[opened++ % load.sources.length] : undefined,
  });

/** Opens `count` connections, `concurrency` handshakes at a time; user names from `claimsFor(i)`. */
async function connectMany(count, claimsFor, concurrency = 100, port = load.port) {
  const conns = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      conns[i] = await open(port, signToken(load.secret, claimsFor(i)));
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
    load.publishers.set(port, open(port, token));
  }
  return load.publishers.get(port);
}

/** Runs `attempt` up to 5 times with the SDK's backoff (0.5–1 s, doubling); counts retries and final failures. */
async function withRetries(tally, attempt) {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      tally.firstError ??= err.message;
      if (n === 4) return void tally.errors++;
      tally.retries++;
      await new Promise((r) => setTimeout(r, 500 * 2 ** n * (1 + Math.random())));
    }
  }
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

  /** Reconnect storm, before the restart: `count` users subscribe to `channel`, each keeping its offset and epoch. */
  async stormSubscribe({ count, channel }) {
    const conns = await connectMany(count, (i) => ({ sub: `storm-${i}` }), 200);
    load.storm = [];
    for (let i = 0; i < conns.length; i += 500)
      load.storm.push(
        ...(await Promise.all(
          conns.slice(i, i + 500).map((c) => c.request('channel.subscribe', { channel })),
        )),
      );
    load.stormConns = conns;
  },

  /** `messages` publications on `channel` (the ones the storm's clients missed), one at a time. */
  async stormPublish({ channel, messages }) {
    const token = signToken(load.secret, { sub: 'storm-publisher', roles: ['admin'] });
    const pub = await open(load.port, token);
    for (let i = 0; i < messages; i++) await pub.request('channel.publish', { channel, data: { i } });
    pub.close();
  },

  /**
   * Every client of stormSubscribe reconnects at once (no concurrency limit) and subscribes with its `since` and
   * `epoch`; resolves with the time until the last one has its `missed` publications. A client whose attempt fails
   * tries again as the SDK does (backoff 0.5–1 s, then doubling, up to 5 attempts); `retries` counts them.
   */
  async stormReconnect({ channel, missed }) {
    for (const c of load.stormConns ?? []) c.close();
    const conns = [];
    const tally = { incomplete: 0, errors: 0, retries: 0, firstError: undefined };
    const t0 = performance.now();
    await Promise.all(
      load.storm.map((before, i) =>
        withRetries(tally, async () => {
          const c = await open(load.port, signToken(load.secret, { sub: `storm-${i}` }));
          conns.push(c);
          const reply = await c.request('channel.subscribe', {
            channel,
            since: before.offset,
            epoch: before.epoch,
          });
          if (!reply.recovered || reply.publications.length < missed) tally.incomplete++;
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    for (const c of conns) c.close();
    load.stormConns = [];
    return { count: load.storm.length, seconds, ...tally };
  },

  /** `count` plain connects at once (no subscription), retried like the storm's: until the last one is welcomed. */
  async connectAtOnce({ count }) {
    const conns = [];
    const tally = { errors: 0, retries: 0, firstError: undefined };
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        withRetries(tally, async () =>
          conns.push(await open(load.port, signToken(load.secret, { sub: `plain-${i}` }))),
        ),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    for (const c of conns) c.close();
    return { count, seconds, ...tally };
  },

  closeRequesters() {
    for (const c of load.requesters ?? []) c.close();
    load.requesters = [];
  },

  /** `senders` users (own connections) in `rooms` rooms, each keeping one `chat.send` in flight for `seconds`. */
  async chat({ senders, rooms, seconds }) {
    const conns = await connectMany(senders, (i) => ({
      sub: `chatter-${i}`,
      name: `Chatter ${i}`,
    }));
    const roomOf = (i) => `bench.room-${i % rooms}`;
    await Promise.all(conns.map((c, i) => c.request('chat.join', { room: roomOf(i) })));
    const latencies = [];
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      conns.map(async (c, i) => {
        for (let n = 0; performance.now() < deadline; n++) {
          const start = performance.now();
          await c.request('chat.send', { room: roomOf(i), text: `message ${n} from chatter ${i}` });
          latencies.push(performance.now() - start);
        }
      }),
    );
    const elapsedMs = performance.now() - t0;
    for (const c of conns) c.close();
    return {
      acked: latencies.length,
      elapsedMs,
      perSec: latencies.length / (elapsedMs / 1000),
      ...stats(latencies.sort((a, b) => a - b)),
    };
  },
};

// On stop, every connection still open is reset too (see BenchSocket.close): the kernel's close at exit would leave
// them in TIME_WAIT. Registered before serveCommands' own SIGTERM handler, which exits.
process.on('SIGTERM', () => {
  for (const conn of [...load.conns, ...(load.requesters ?? [])]) conn.close();
});
serveCommands(commands);
