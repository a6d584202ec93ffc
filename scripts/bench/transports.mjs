#!/usr/bin/env node
/**
 * `npm run bench` (transports): fan-out from one Hubbub instance to 2,000 Server-Sent-Events sessions beside 2,000
 * WebSockets, all subscribed to the same channel, in the same run; and the bytes each transport puts on the wire
 * per message. Hubbub runs as production runs it (dist/main.js, SQLite), pinned to core 0; this load client
 * re-executes itself pinned to core 1 (when taskset exists).
 *
 * For each publication the publisher (an admin WebSocket) stamps the send time; every recipient records the delay
 * until it parsed the frame. The table gives, per transport, p50/p99 of that delay and the time the last recipient
 * of the transport had everything, and the SSE ÷ WebSocket ratio of each. Bytes per message: what the client's
 * sockets read during the publications (TCP payload: WebSocket frame headers, or SSE `data: ` lines inside HTTP
 * chunks), divided by connections × messages. Heartbeats are off during the measure (HEARTBEAT_INTERVAL_MS 10 min).
 *
 * Flags: --quick (200 + 200 connections, 50 messages) · --no-build · --connections=N · --messages=N · --window=N
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  ensureBuilt,
  hardFileLimit,
  hasTaskset,
  hubbubArgv,
  launch,
  markdownTable,
  readCpuSeconds,
  startServer,
  stopServer,
} from './harness.mjs';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const quick = args.has('quick');
const CONNECTIONS = Number(args.get('connections') ?? (quick ? 200 : 2000));
const MESSAGES = Number(args.get('messages') ?? (quick ? 50 : 200));
const WINDOW = Number(args.get('window') ?? 8);
/** Every recipient is on ALL; WebSockets also on ONLY.websocket, SSE sessions on ONLY.sse (one transport at a time). */
const ALL = 'bench.all';
const ONLY = { websocket: 'bench.ws', sse: 'bench.sse' };
const PAD = 'x'.repeat(64);

function sign(secret, claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** A recipient: counts what it received and the delay of each publication. */
function recipient(kind) {
  return { kind, got: 0, delays: [], socket: null, bytesAtStart: 0, lastAt: 0 };
}

function onFrame(r, text) {
  const frame = JSON.parse(text);
  if (frame.event !== 'channel.message') return frame;
  const now = performance.now();
  r.got++;
  r.lastAt = now;
  if (typeof frame.data.data?.t === 'number') r.delays.push(now - frame.data.data.t);
  return frame;
}

function connectWs(port, token, r) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` } });
    ws.on('message', (data) => {
      const frame = onFrame(r, data.toString());
      if (frame.event === 'welcome') {
        for (const [id, channel] of [ALL, ONLY.websocket].entries())
          ws.send(JSON.stringify({ event: 'channel.subscribe', id, data: { channel } }));
      } else if (frame.id === 1) resolve(ws);
    });
    ws.on('open', () => (r.socket = ws._socket));
    ws.on('error', reject);
  });
}

function connectSse(port, token, r, agent) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: `/sse?channels=${ALL},${ONLY.sse}&access_token=${token}`, agent },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`GET /sse: HTTP ${res.statusCode}`));
        r.socket = res.socket;
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk) => {
          buffered += chunk;
          let at;
          while ((at = buffered.indexOf('\n\n')) >= 0) {
            const event = buffered.slice(0, at);
            buffered = buffered.slice(at + 2);
            if (!event.startsWith('data: ')) continue; // heartbeat
            if (onFrame(r, event.slice(6)).event === 'welcome') resolve(req);
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function inBatches(n, size, fn) {
  const out = [];
  for (let i = 0; i < n; i += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j)))));
  }
  return out;
}

/** Publishes `count` publications, `WINDOW` in flight; resolves when all are acknowledged. */
async function publish(publisher, channel, count, stamped) {
  let next = 0;
  let id = 100;
  const waiting = new Map();
  const onReply = (data) => {
    const frame = JSON.parse(data.toString());
    waiting.get(frame.id)?.();
  };
  publisher.on('message', onReply);
  const one = () =>
    new Promise((resolve) => {
      const myId = id++;
      waiting.set(myId, resolve);
      const data = stamped ? { t: performance.now(), pad: PAD } : { warm: true, pad: PAD };
      publisher.send(JSON.stringify({ event: 'channel.publish', id: myId, data: { channel, data } }));
    });
  const lanes = Array.from({ length: WINDOW }, async () => {
    while (next < count) {
      next++;
      await one();
    }
  });
  await Promise.all(lanes);
  publisher.off('message', onReply);
}

async function until(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main() {
  ensureBuilt({ noBuild: args.has('no-build') });
  const secret = createHmac('sha256', 'bench').update(String(Date.now())).digest('hex');
  const server = await startServer({
    name: 'Hubbub',
    argv: hubbubArgv(),
    secret,
    env: { HEARTBEAT_INTERVAL_MS: '600000', MAX_CONNECTIONS_PER_USER: '10' },
    core: 0,
    nofile: hardFileLimit(),
  });
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const ws = Array.from({ length: CONNECTIONS }, () => recipient('websocket'));
  const sse = Array.from({ length: CONNECTIONS }, () => recipient('sse'));
  const closers = [];
  try {
    console.log(`transports: ${CONNECTIONS} WebSockets and ${CONNECTIONS} SSE sessions on one channel…`);
    const sockets = await inBatches(CONNECTIONS, 100, (i) => connectWs(server.port, sign(secret, { sub: `w${i}` }), ws[i]));
    closers.push(() => sockets.forEach((s) => s.terminate()));
    const streams = await inBatches(CONNECTIONS, 100, (i) => connectSse(server.port, sign(secret, { sub: `s${i}` }), sse[i], agent));
    closers.push(() => streams.forEach((s) => s.destroy()));
    const publisher = await new Promise((resolve, reject) => {
      const p = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, {
        headers: { authorization: `Bearer ${sign(secret, { sub: 'publisher', roles: ['admin'] })}` },
      });
      p.once('message', () => resolve(p)); // welcome
      p.on('error', reject);
    });
    closers.push(() => publisher.terminate());
    const all = [...ws, ...sse];
    // Warm-up: every session subscribed (?channels= subscribes as the stream opens) and every path hot.
    await publish(publisher, ALL, 20, false);
    await until(() => all.every((r) => r.got >= 20), 60_000, 'the warm-up publications');
    for (const only of [ONLY.websocket, ONLY.sse]) await publish(publisher, only, 1, false);
    await until(() => all.every((r) => r.got >= 21), 60_000, 'the warm-up of each transport alone');

    /** Publishes MESSAGES to `channel` and waits for every one of `list` to have them; server CPU and wall time. */
    const measure = async (channel, list) => {
      for (const r of all) {
        r.got = 0;
        r.delays = [];
        r.bytesAtStart = r.socket.bytesRead;
      }
      const cpu0 = readCpuSeconds(server.pid);
      const t0 = performance.now();
      await publish(publisher, channel, MESSAGES, true);
      await until(() => list.every((r) => r.got >= MESSAGES), 120_000, `every publication on ${channel}`);
      const cpu = readCpuSeconds(server.pid) - cpu0;
      const figures = (of) => {
        const delays = of.flatMap((r) => r.delays).sort((a, b) => a - b);
        const bytes = of.reduce((sum, r) => sum + r.socket.bytesRead - r.bytesAtStart, 0);
        return {
          p50: percentile(delays, 0.5),
          p99: percentile(delays, 0.99),
          done: Math.max(...of.map((r) => r.lastAt)) - t0,
          bytes: bytes / (of.length * MESSAGES),
          cpuPerK: (cpu / (list.length * MESSAGES)) * 1000 * 1000, // server CPU ms per 1,000 deliveries
        };
      };
      return { wall: (performance.now() - t0) / 1000, cpu, figures };
    };

    // Each transport alone (the other's sessions idle), then both on one channel.
    const wsAlone = (await measure(ONLY.websocket, ws)).figures(ws);
    const sseAlone = (await measure(ONLY.sse, sse)).figures(sse);
    const both = await measure(ALL, all);
    const w = both.figures(ws);
    const s = both.figures(sse);
    const ms = (v) => `${v.toFixed(1)} ms`;
    const ratio = (a, b) => (a / b).toFixed(2);
    console.log(
      `\nOne channel, ${CONNECTIONS} WebSockets + ${CONNECTIONS} SSE sessions, ${MESSAGES} publications (${PAD.length}-byte pad, ${WINDOW} in flight): ` +
        `${((2 * CONNECTIONS * MESSAGES) / both.wall).toFixed(0)} deliveries/s, server CPU ${both.cpu.toFixed(2)} s over ${both.wall.toFixed(2)} s ` +
        `(the load client, on its own core, is the bound on delays)\n`,
    );
    console.log(
      markdownTable([
        ['', 'WebSocket', 'SSE', 'SSE ÷ WebSocket'],
        ['server CPU per 1,000 deliveries, each transport alone', ms(wsAlone.cpuPerK), ms(sseAlone.cpuPerK), ratio(sseAlone.cpuPerK, wsAlone.cpuPerK)],
        ['bytes per message on the wire, alone', wsAlone.bytes.toFixed(1), sseAlone.bytes.toFixed(1), ratio(sseAlone.bytes, wsAlone.bytes)],
        ['delay p50, both on one channel', ms(w.p50), ms(s.p50), ratio(s.p50, w.p50)],
        ['delay p99, both on one channel', ms(w.p99), ms(s.p99), ratio(s.p99, w.p99)],
        ['last recipient done after, both', ms(w.done), ms(s.done), ratio(s.done, w.done)],
        ['bytes per message on the wire, both', w.bytes.toFixed(1), s.bytes.toFixed(1), ratio(s.bytes, w.bytes)],
      ]),
    );
  } finally {
    for (const close of closers) close();
    agent.destroy();
    await stopServer(server);
  }
}

// Pin the load client to core 1, with the file limit raised, by running this script again under taskset.
if (!process.env.HUBBUB_BENCH_CLIENT) {
  const child = launch([process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    core: hasTaskset() && cpus().length > 1 ? 1 : undefined,
    nofile: hardFileLimit(),
    stdio: 'inherit',
    env: { ...process.env, HUBBUB_BENCH_CLIENT: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}
