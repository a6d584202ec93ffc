#!/usr/bin/env node
/**
 * `npm run bench`: throughput, latency and memory of Hubbub, next to a naive plain-`ws` server
 * (scripts/bench-baseline.mjs) doing the same channel fan-out. Everything runs on 127.0.0.1 and is bounded in time.
 *
 * Three processes, so the server under test has a core of its own:
 *   - this one (the orchestrator): builds if needed, starts each server as a child process, reads its RSS and CPU
 *     time from /proc, prints the table;
 *   - the server: `node dist/main.js` (Hubbub, production settings, SQLite in a temp dir) or the baseline;
 *   - the load client: this same file with `--load-client`, forked, driven over IPC. It holds every WebSocket.
 *
 * Scenarios:
 *   1. memory   — RSS delta of the server over 2000 idle, authenticated connections.
 *   2. fanout   — N subscribers (500, then 2000) on one channel; one admin publishes M messages with a window of
 *                 in-flight `channel.publish` requests; deliveries/s = `channel.message` frames received by all
 *                 subscribers / elapsed; p50/p99 publish→receive latency from a timestamp carried in `data`, both
 *                 in that saturated run (mostly queueing) and in a short run with one publish in flight.
 *   3. chat     — 50 senders in 10 rooms, each with one `chat.send` in flight (SQLite store); acks/s, ack latency.
 *   4. chat-stores — scripts/bench-chat.mjs: 50 senders in one room and over 500 rooms, on SQLite and on
 *                 PostgreSQL (skipped with a line when it does not answer); acks/s, p50/p99, PostgreSQL ÷ SQLite.
 *   (The baseline only implements what scenarios 1 and 2 need.)
 *
 * Build policy: Hubbub is run from dist/. The bench runs `npx nest build` first when dist/main.js is missing or older
 * than any file under src/, so a clean clone works after `npm ci` and a stale build is never measured.
 *
 * Flags (`npm run bench -- <flags>`):
 *   --build / --no-build     always build / never build (use dist/ as it is)
 *   --quick                  quarter-size run, for trying the script itself
 *   --servers=hubbub,baseline  which servers to run (default both)
 *   --phases=memory,fanout,chat,chat-stores  which scenarios to run (default all)
 *   --profile                run each server under `node --cpu-prof` and print its hottest functions afterwards
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { arch, cpus, platform, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST_MAIN = join(ROOT, 'dist', 'main.js');
const BASELINE = join(ROOT, 'scripts', 'bench-baseline.mjs');

/** Sizes of every scenario. `--quick` divides the big ones by 4. */
const FULL = {
  idleConnections: 2000,
  fanout: [
    { subscribers: 500, messages: 2000 },
    { subscribers: 2000, messages: 600 },
  ],
  warmupMessages: 200, // published (to 500 subscribers) before the first measured run, so both servers are JIT-warm
  publishWindow: 32, // channel.publish requests in flight: throughput runs keep the server saturated
  // Then one publish in flight: latency without queueing = the time one message takes to reach every subscriber.
  unloadedMessages: 200,
  sampleEvery: 50, // one delivered frame in 50 is fully parsed, checked and timed
  chat: { senders: 50, rooms: 10, seconds: 5 },
};
const CHANNEL = 'bench';
/** No progress for this long in a fan-out run: stop waiting and report what was lost. */
const STALL_MS = 3000;
const CONNECT_CONCURRENCY = 100;

// ─────────────────────────────────────────── orchestrator ───────────────────────────────────────────

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const sizes = flags.quick ? quarter(FULL) : FULL;
  if (flags.servers.includes('hubbub')) ensureBuilt(flags);
  const secret = randomBytes(32).toString('base64url');

  console.log(`${machine()}\n`);
  const results = {};
  for (const kind of flags.servers) {
    results[kind] = await benchServer(kind, {
      secret,
      sizes,
      phases: flags.phases,
      profile: flags.profile,
    });
  }
  console.log(`\n${renderTable(results, sizes)}`);
  if (flags.phases.includes('chat-stores') && flags.servers.includes('hubbub')) {
    // 50 senders in one room and over 500 rooms, SQLite against PostgreSQL: scripts/bench-chat.mjs.
    console.log('\nChat stores: SQLite and PostgreSQL');
    const { runChatStores } = await import('./bench-chat.mjs');
    await runChatStores({ quick: flags.quick });
  }
}

function parseFlags(argv) {
  const value = (name, fallback) =>
    argv
      .find((a) => a.startsWith(`--${name}=`))
      ?.split('=')[1]
      .split(',') ?? fallback;
  const flags = {
    build: argv.includes('--build'),
    noBuild: argv.includes('--no-build'),
    quick: argv.includes('--quick'),
    profile: argv.includes('--profile'),
    servers: value('servers', ['hubbub', 'baseline']),
    phases: value('phases', ['memory', 'fanout', 'chat', 'chat-stores']),
  };
  const unknown = argv.filter(
    (a) => !/^--(build|no-build|quick|profile|servers=.*|phases=.*)$/.test(a),
  );
  if (unknown.length > 0)
    throw new Error(`unknown flag(s): ${unknown.join(' ')} (see the header of scripts/bench.mjs)`);
  return flags;
}

function quarter(sizes) {
  return {
    ...sizes,
    idleConnections: sizes.idleConnections / 4,
    fanout: sizes.fanout.map((f) => ({ subscribers: f.subscribers / 4, messages: f.messages / 4 })),
    chat: { ...sizes.chat, seconds: 2 },
  };
}

function machine() {
  const cpu = cpus();
  const fs = filesystemOf(tmpdir());
  // Chat acks wait for an fsync: on tmpfs that costs nothing and the chat figure would flatter the store.
  const warning =
    fs === 'tmpfs' ? ' — WARNING: tmpfs, fsync is free, chat figures are optimistic' : '';
  return (
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${platform()} ${arch()}, ` +
    `Node ${process.version}; SQLite files in ${tmpdir()} (${fs})${warning}`
  );
}

/** File system type of the mount holding `path`, from /proc/mounts (longest matching mount point). */
function filesystemOf(path) {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '));
  const holding = mounts.filter(
    ([, point]) => point && (path === point || path.startsWith(point.replace(/\/?$/, '/'))),
  );
  return holding.sort((a, b) => b[1].length - a[1].length)[0]?.[2] ?? 'unknown';
}

/** Builds dist/ when asked to, or when it is missing or older than the sources (see the header). */
function ensureBuilt(flags) {
  if (flags.noBuild) {
    if (!existsSync(DIST_MAIN)) throw new Error('dist/main.js is missing and --no-build was given');
    return;
  }
  const stale =
    !existsSync(DIST_MAIN) || newestMtime(join(ROOT, 'src')) > statSync(DIST_MAIN).mtimeMs;
  if (!flags.build && !stale) return;
  console.log('Building Hubbub (npx nest build)…');
  const result = spawnSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error('`nest build` failed; fix the build or pass --no-build to use dist/ as it is');
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Every scenario against one server process: memory first (on a fresh process), then fan-out, then chat. */
async function benchServer(kind, { secret, sizes, phases, profile }) {
  const label = kind === 'hubbub' ? 'Hubbub' : 'baseline';
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'hubbub-prof-')) : undefined;
  const server = await startServer(kind, secret, profileDir);
  const client = startLoadClient();
  const result = { fanout: [] };
  const profileWindows = []; // [from, to] of the saturated fan-out runs, in µs of the monotonic clock
  try {
    await client.call('init', { port: server.port, secret });
    if (phases.includes('memory')) {
      result.memory = await measureIdleMemory(server, client, sizes.idleConnections);
      log(label, `memory: ${result.memory.perConnKb.toFixed(1)} KB RSS per idle connection`);
    }
    if (phases.includes('fanout')) {
      result.fanout = await runFanout(label, server, client, sizes, profileWindows);
    }
    await client.call('closeAll');
    // The baseline has no chat: rooms, SQLite and presence are exactly what it leaves out.
    if (phases.includes('chat') && kind === 'hubbub') {
      result.chat = await withCpu(server, client, () => client.call('chat', sizes.chat));
      log(label, `chat: ${fmtInt(result.chat.perSec)} acks/s (CPU ${fmtCpu(result.chat)})`);
      warnIfBusy(label, result.chat);
    }
  } finally {
    await client.stop();
    await stopServer(server);
  }
  if (profileDir) printProfile(profileDir, profileWindows);
  return result;
}

/**
 * The fan-out runs, growing one set of subscribers (the idle connections of the memory phase, or new ones):
 * a warm-up, then per size a saturated run (throughput) and a run with one publish in flight (latency).
 */
async function runFanout(label, server, client, sizes, profileWindows) {
  const runs = [];
  const largest = Math.max(...sizes.fanout.map((f) => f.subscribers));
  await client.call('connect', { upTo: largest });
  const first = sizes.fanout[0].subscribers;
  await client.call('subscribe', { upTo: first, channel: CHANNEL });
  await client.call('fanout', fanoutArgs(sizes, first, sizes.warmupMessages));
  for (const { subscribers, messages } of sizes.fanout) {
    await client.call('subscribe', { upTo: subscribers, channel: CHANNEL });
    const args = fanoutArgs(sizes, subscribers, messages);
    const from = monotonicUs();
    const run = await withCpu(server, client, () => client.call('fanout', args));
    profileWindows.push([from, monotonicUs()]);
    const unloaded = fanoutArgs(sizes, subscribers, sizes.unloadedMessages);
    run.unloaded = await client.call('fanout', { ...unloaded, window: 1 });
    runs.push(run);
    const frames = `${run.received}/${run.expected} frames`;
    log(label, `fan-out ${subscribers} subscribers: ${fmtInt(run.deliveriesPerSec)} deliveries/s`);
    log(label, `  (${frames}, CPU server / load client / others ${fmtCpu(run)})`);
    warnIfBusy(label, run);
  }
  return runs;
}

/** A fan-out run: `messages` publications to the first `subscribers` connections, `window` of them in flight. */
const fanoutArgs = (sizes, subscribers, messages) => ({
  subscribers,
  messages,
  channel: CHANNEL,
  window: sizes.publishWindow,
  sampleEvery: sizes.sampleEvery,
});

/**
 * RSS before and after opening `count` idle connections. A short warm-up (100 connections opened and closed)
 * comes first so that lazily loaded code and JIT output are not charged to the connections.
 */
async function measureIdleMemory(server, client, count) {
  await client.call('connect', { upTo: 100 });
  await client.call('closeAll');
  await sleep(1000);
  const before = readRssKb(server.pid);
  await client.call('connect', { upTo: count });
  await sleep(1000); // let the per-connection work that follows the welcome (presence, quota, timers) settle
  const after = readRssKb(server.pid);
  return {
    connections: count,
    rssBeforeMb: before / 1024,
    rssAfterMb: after / 1024,
    perConnKb: (after - before) / count,
  };
}

/**
 * Runs `fn` and adds to its result the CPU used meanwhile (1.0 = one core busy) by the server, by the load client,
 * and by every other process on the machine: a benchmark on a shared 2-core box is only as good as that last one.
 */
async function withCpu(server, client, fn) {
  const before = [readCpuSeconds(server.pid), readCpuSeconds(client.pid), readBusySeconds()];
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const [server1, client1, busy1] = [
    readCpuSeconds(server.pid),
    readCpuSeconds(client.pid),
    readBusySeconds(),
  ];
  const serverCpu = (server1 - before[0]) / wall;
  const clientCpu = (client1 - before[1]) / wall;
  const otherCpu = Math.max(0, (busy1 - before[2]) / wall - serverCpu - clientCpu);
  return { ...result, serverCpu, clientCpu, otherCpu };
}

/** Starts a server child process on a free port and resolves once GET /health answers 200. */
async function startServer(kind, secret, profileDir) {
  const port = await freePort();
  // A fresh working directory: Hubbub loads ./.env from its cwd, and a developer's .env (REDIS_URL, say) must
  // not change what is measured. For the same reason the environment is built from scratch.
  const cwd = mkdtempSync(join(tmpdir(), 'hubbub-bench-'));
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: secret,
    ALLOWED_ORIGINS: 'http://localhost',
    DEV_TOKENS: 'false',
    SQLITE_PATH: join(cwd, 'hubbub.db'),
    // One publisher sends thousands of messages per second: the per-connection limit must not be what is measured.
    RATE_LIMIT_PER_SEC: '1000000',
    RATE_LIMIT_BURST: '1000000',
    LOG_LEVEL: 'warn',
    NODE_ID: 'bench',
  };
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const script = kind === 'hubbub' ? DIST_MAIN : BASELINE;
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { kind, port, pid: child.pid, child, cwd, output: [], exited: false };
  // The last lines of output, shown if the server dies or exits badly.
  const keep = (chunk) => {
    server.output.push(...chunk.toString().split('\n').filter(Boolean));
    server.output.splice(0, server.output.length - 50);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      server.exited = true;
      resolve({ code, signal });
    }),
  );
  await waitHealthy(server);
  return server;
}

async function waitHealthy(server) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exited)
      throw new Error(`${server.kind} exited during start:\n${server.output.join('\n')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${server.port}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(
    `${server.kind} did not become healthy within 30 s:\n${server.output.join('\n')}`,
  );
}

/** SIGTERM (Hubbub drains and exits 0, and writes its CPU profile), SIGKILL if that takes over 15 s. */
async function stopServer(server) {
  if (!server.exited) server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  const { code, signal } = await server.exit;
  clearTimeout(timer);
  if (code !== 0)
    console.warn(
      `${server.kind} exited with ${code ?? signal}:\n${server.output.slice(-10).join('\n')}`,
    );
  rmSync(server.cwd, { recursive: true, force: true });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

function readRssKb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]);
}

/** utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function readCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU time all cores spent not idle, from the first line of /proc/stat (same 1/100 s ticks). */
function readBusySeconds() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Forks the load client and returns a tiny RPC handle: call(command, args) → its result. */
function startLoadClient() {
  const child = fork(fileURLToPath(import.meta.url), ['--load-client'], { stdio: 'inherit' });
  const waiting = new Map();
  let nextId = 1;
  child.on('message', ({ id, result, error }) => {
    const w = waiting.get(id);
    waiting.delete(id);
    if (error) w?.reject(new Error(`load client: ${error}`));
    else w?.resolve(result);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`load client exited with ${code}`));
    waiting.clear();
  });
  return {
    pid: child.pid,
    call(cmd, args = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ───────────────────────────────────────────── report ─────────────────────────────────────────────

function renderTable(results, sizes) {
  const h = results.hubbub;
  const b = results.baseline;
  const rows = [['scenario', 'metric', 'Hubbub', 'baseline (plain ws)', 'Hubbub ÷ baseline']];
  const ratio = (x, y) => (x && y ? `${(x / y).toFixed(2)}×` : '');

  sizes.fanout.forEach(({ subscribers, messages }, i) => {
    const hr = h?.fanout[i];
    const br = b?.fanout[i];
    const name = `fan-out: ${subscribers} subscribers × ${messages} msgs, window ${sizes.publishWindow}`;
    if (!hr && !br) return;
    rows.push([
      name,
      'deliveries/s',
      fmtInt(hr?.deliveriesPerSec),
      fmtInt(br?.deliveriesPerSec),
      ratio(hr?.deliveriesPerSec, br?.deliveriesPerSec),
    ]);
    rows.push(['', 'latency p50 / p99 (ms), saturated', fmtLatency(hr), fmtLatency(br), '']);
    rows.push([
      '',
      `latency p50 / p99 (ms), 1 in flight (${sizes.unloadedMessages} msgs)`,
      fmtLatency(hr?.unloaded),
      fmtLatency(br?.unloaded),
      '',
    ]);
    rows.push(['', 'frames received / expected', fmtCount(hr), fmtCount(br), '']);
    rows.push(['', 'CPU: server / load client / others', fmtCpu(hr), fmtCpu(br), '']);
  });
  if (h?.chat) {
    const c = h.chat;
    const name = `chat.send: ${sizes.chat.senders} senders, ${sizes.chat.rooms} rooms, 1 in flight each, SQLite`;
    rows.push([name, 'acks/s', fmtInt(c.perSec), 'n/a', '']);
    rows.push(['', 'ack latency p50 / p99 (ms)', fmtLatency(c), 'n/a', '']);
    rows.push(['', 'CPU: server / load client / others', fmtCpu(c), 'n/a', '']);
  }
  if (h?.memory || b?.memory) {
    const name = `memory: ${(h ?? b).memory.connections} idle connections`;
    const kb = (m) => (m ? `${m.perConnKb.toFixed(1)} KB` : '');
    const rss = (m) => (m ? `${m.rssBeforeMb.toFixed(0)} → ${m.rssAfterMb.toFixed(0)} MB` : '');
    rows.push([
      name,
      'RSS per connection',
      kb(h?.memory),
      kb(b?.memory),
      ratio(h?.memory?.perConnKb, b?.memory?.perConnKb),
    ]);
    rows.push(['', 'server RSS before → after', rss(h?.memory), rss(b?.memory), '']);
  }
  return markdownTable(rows);
}

function markdownTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

const fmtInt = (n) => (n === undefined ? '' : Math.round(n).toLocaleString('en-US'));
const fmtPct = (x) => (x === undefined ? '' : `${Math.round(x * 100)}%`);
const fmtLatency = (r) => (r ? `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}` : '');
const fmtCount = (r) =>
  r
    ? `${fmtInt(r.received)} / ${fmtInt(r.expected)}${r.badSamples ? ` (${r.badSamples} bad)` : ''}`
    : '';
const fmtCpu = (r) =>
  r ? `${fmtPct(r.serverCpu)} / ${fmtPct(r.clientCpu)} / ${fmtPct(r.otherCpu)}` : '';
const log = (label, text) => console.log(`[${label}] ${text}`);
function warnIfBusy(label, run) {
  if (run.otherCpu <= 0.15) return;
  const share = fmtPct(run.otherCpu);
  log(
    label,
    `WARNING: other processes used ${share} of a core meanwhile; this figure is unreliable`,
  );
}
/** CLOCK_MONOTONIC in µs: the clock of V8's CPU profile timestamps, so profiles can be cut to a phase. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Self time per function and per file of the newest .cpuprofile in `dir`, as shares of the busy (non-idle) time.
 * Only the samples inside `windows` count (the saturated fan-out runs), or all of them (boot included) if none.
 */
function printProfile(dir, windows) {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .pop();
  if (!file) return console.warn(`no CPU profile was written to ${dir}`);
  const { nodes, samples, timeDeltas, startTime } = JSON.parse(
    readFileSync(join(dir, file), 'utf8'),
  );
  const inScope = (t) => windows.length === 0 || windows.some(([from, to]) => t >= from && t <= to);
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const byFunction = new Map();
  const byFile = new Map();
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  let busy = 0;
  let idle = 0;
  let t = startTime;
  samples.forEach((id, i) => {
    const us = timeDeltas[i] ?? 0;
    t += us;
    if (!inScope(t)) return;
    const { functionName, url, lineNumber } = nodeById.get(id).callFrame;
    if (functionName === '(idle)') return void (idle += us);
    busy += us;
    const where = shortUrl(url);
    add(
      byFunction,
      `${where}${url ? `:${lineNumber + 1}` : ''} ${functionName || '(anonymous)'}`,
      us,
    );
    add(byFile, where || `${functionName} (native)`, us);
  });
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  const scope = windows.length
    ? `the ${windows.length} saturated fan-out runs`
    : 'the whole process';
  const seconds = (us) => `${(us / 1e6).toFixed(1)} s`;
  console.log(`\nCPU profile ${join(dir, file)}`);
  console.log(`Scope: ${scope}, ${seconds(busy)} busy, ${seconds(idle)} idle`);
  console.log(
    `Self time by function (% of busy):\n${top(byFunction, 25)}\nSelf time by file:\n${top(byFile, 15)}`,
  );
}

function shortUrl(url) {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

// ──────────────────────────────────────── load client process ────────────────────────────────────────

/**
 * A minimal WebSocket client over a raw TCP socket. Why not the `ws` client: with 2000 subscribers the client
 * process receives as many frames as the server sends, and it must not be the bottleneck. Here a received text
 * frame costs a header read and a callback with (buffer, start, end), no copy and no UTF-8 decoding; whoever
 * needs the JSON parses it. Server frames are never masked or fragmented (Hubbub and ws send whole frames).
 */
class BenchSocket {
  static open(port, token) {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const key = randomBytes(16).toString('base64');
      let head = Buffer.alloc(0);
      const fail = (err) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.setNoDelay(true);
        socket.write(
          `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`,
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
        if (!/^HTTP\/1\.1 101 /.test(response) || !response.includes(accept)) {
          return fail(new Error(`handshake refused: ${response.split('\r\n')[0]}`));
        }
        const ws = new BenchSocket(socket);
        ws.welcome.then(() => resolve(ws), reject);
        ws.feed(head.subarray(end + 4));
      };
      socket.on('data', onHead);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.rest = null; // bytes of an incomplete frame, waiting for the next chunk
    this.pending = new Map(); // request id → {resolve, reject}
    this.nextId = 1;
    this.onText = this.onJson; // replaced by a counting handler during fan-out runs
    this.welcome = new Promise((resolve, reject) => {
      this.onWelcome = resolve;
      socket.once('close', () => reject(new Error('closed before welcome')));
    });
    socket.on('data', (chunk) => this.feed(chunk));
    socket.on('error', () => undefined); // a reset shows up as 'close'
    socket.on('close', () => {
      for (const w of this.pending.values()) w.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  /** Splits the byte stream into frames; keeps an incomplete tail for the next chunk. */
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
      this.onFrame(buf[pos], buf, pos + header, end);
      pos = end;
    }
    if (pos < buf.length) this.rest = buf.subarray(pos);
  }

  onFrame(first, buf, start, end) {
    switch (first & 0x0f) {
      case 0x1: // text
        return this.onText(buf, start, end);
      case 0x9: // ping: answer it, or the server's heartbeat would drop the connection
        return this.sendFrame(0x8a, buf.subarray(start, end));
      case 0x8: // close
        return this.socket.end();
    }
  }

  /** Setup mode: every text frame is parsed; replies settle their request, the welcome resolves `welcome`. */
  onJson(buf, start, end) {
    const message = JSON.parse(buf.toString('utf8', start, end));
    if (message.event === 'welcome') return this.onWelcome(message.data);
    const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!waiter) return; // a push (chat.message to the other room members, say): not measured here
    this.pending.delete(message.id);
    if (message.event === 'error')
      waiter.reject(new Error(`${message.data.code}: ${message.data.message}`));
    else waiter.resolve(message.data);
  }

  request(event, data) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sendFrame(0x81, Buffer.from(JSON.stringify({ event, id, data })));
    });
  }

  /** Client frames must be masked (RFC 6455 5.3). */
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

/** HS256 JWT signed with node:crypto, as Hubbub's TokenVerifier (and the baseline) accept it. */
function signToken(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const PUSH_PREFIX = Buffer.from('{"event":"channel.message"');

/** What the load client holds between commands. */
const load = { port: 0, secret: '', idle: [], subscribed: 0, publisher: undefined };

async function connectMany(count, claimsFor) {
  const conns = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      conns[i] = await BenchSocket.open(load.port, signToken(load.secret, claimsFor(i)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, worker));
  return conns;
}

const commands = {
  init({ port, secret }) {
    Object.assign(load, { port, secret });
  },

  /** Opens subscriber-to-be connections (user `sub-<i>`) until `upTo` are open. */
  async connect({ upTo }) {
    const have = load.idle.length;
    if (upTo <= have) return;
    const conns = await connectMany(upTo - have, (i) => ({ sub: `sub-${have + i}` }));
    load.idle.push(...conns);
  },

  closeAll() {
    for (const conn of load.idle) conn.close();
    load.idle = [];
    load.subscribed = 0;
    load.publisher?.close();
    load.publisher = undefined;
  },

  /** Subscribes the first `upTo` connections to the channel. */
  async subscribe({ upTo, channel }) {
    const batch = load.idle.slice(load.subscribed, upTo);
    await Promise.all(batch.map((conn) => conn.request('channel.subscribe', { channel })));
    load.subscribed = Math.max(load.subscribed, upTo);
  },

  /**
   * One fan-out run: the first `subscribers` connections count `channel.message` frames by their prefix only;
   * one in `sampleEvery` is parsed in full, checked, and timed against the publish timestamp in its data.
   */
  async fanout({ subscribers, messages, channel, window, sampleEvery }) {
    load.publisher ??= await BenchSocket.open(
      load.port,
      signToken(load.secret, { sub: 'publisher', roles: ['admin'] }),
    );
    const run = {
      expected: subscribers * messages,
      received: 0,
      lastAt: 0,
      latencies: [],
      badSamples: 0,
    };
    let finished;
    const allReceived = new Promise((resolve) => (finished = resolve));
    load.idle.slice(0, subscribers).forEach((conn, index) => {
      let countdown = (index % sampleEvery) + 1; // staggered, so samples cover every message and every subscriber
      conn.onText = (buf, start, end) => {
        if (end - start < PUSH_PREFIX.length) return;
        if (
          buf.compare(PUSH_PREFIX, 0, PUSH_PREFIX.length, start, start + PUSH_PREFIX.length) !== 0
        )
          return;
        run.received++;
        run.lastAt = performance.now();
        if (--countdown === 0) {
          countdown = sampleEvery;
          checkSample(run, channel, buf.toString('utf8', start, end));
        }
        if (run.received === run.expected) finished();
      };
    });

    const t0 = performance.now();
    await publishMany(load.publisher, channel, messages, window);
    await untilDoneOrStalled(run, allReceived);
    for (const conn of load.idle) conn.onText = conn.onJson;
    if (run.received === 0) throw new Error('no channel.message frame arrived');
    const elapsedMs = run.lastAt - t0;

    const sorted = run.latencies.sort((a, b) => a - b);
    return {
      subscribers,
      messages,
      expected: run.expected,
      received: run.received,
      badSamples: run.badSamples,
      samples: sorted.length,
      elapsedMs,
      deliveriesPerSec: run.received / (elapsedMs / 1000),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
    };
  },

  /** 50 senders (own users) in 10 rooms, each with one chat.send in flight, for a fixed time. */
  async chat({ senders, rooms, seconds }) {
    const conns = await connectMany(senders, (i) => ({
      sub: `chatter-${i}`,
      name: `Chatter ${i}`,
    }));
    const roomOf = (i) => `bench.room-${i % rooms}`;
    await Promise.all(conns.map((conn, i) => conn.request('chat.join', { room: roomOf(i) })));
    const latencies = [];
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      conns.map(async (conn, i) => {
        for (let n = 0; performance.now() < deadline; n++) {
          const start = performance.now();
          await conn.request('chat.send', {
            room: roomOf(i),
            text: `message ${n} from chatter ${i}`,
          });
          latencies.push(performance.now() - start);
        }
      }),
    );
    const elapsedMs = performance.now() - t0;
    for (const conn of conns) conn.close();
    const sorted = latencies.sort((a, b) => a - b);
    return {
      acked: sorted.length,
      elapsedMs,
      perSec: sorted.length / (elapsedMs / 1000),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
    };
  },
};

function checkSample(run, channel, text) {
  const message = JSON.parse(text);
  const t = message.data?.data?.t;
  if (
    message.event !== 'channel.message' ||
    message.data.channel !== channel ||
    typeof t !== 'number'
  ) {
    run.badSamples++;
    return;
  }
  run.latencies.push(performance.now() - t);
}

/** Publishes `count` messages keeping `window` requests in flight; resolves when all are acknowledged. */
function publishMany(publisher, channel, count, window) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const sendOne = () => {
      const i = sent++;
      publisher
        .request('channel.publish', { channel, data: { t: performance.now(), i } })
        .then(() => {
          acked++;
          if (sent < count) sendOne();
          else if (acked === count) resolve();
        }, reject);
    };
    for (let k = 0; k < Math.min(window, count); k++) sendOne();
  });
}

/** Waits for every frame of a run, or until it makes no progress for STALL_MS (frames lost, subscriber dropped). */
async function untilDoneOrStalled(run, allReceived) {
  let seen = -1;
  let timer;
  const stalled = new Promise((resolve) => {
    timer = setInterval(() => {
      if (run.received === seen) resolve();
      seen = run.received;
    }, STALL_MS);
  });
  await Promise.race([allReceived, stalled]);
  clearInterval(timer);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function runLoadClient() {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      const result = await commands[cmd](args);
      process.send({ id, result });
    } catch (err) {
      process.send({ id, error: err?.stack ?? String(err) });
    }
  });
  process.on('SIGTERM', () => process.exit(0));
}

// ─────────────────────────────────────────────── entry ───────────────────────────────────────────────

if (process.argv[2] === '--load-client') {
  runLoadClient();
} else {
  main().catch((err) => {
    console.error(`bench: ${err?.message ?? err}`);
    process.exit(1);
  });
}
