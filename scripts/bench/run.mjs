#!/usr/bin/env node
/**
 * `npm run bench` (first half): Hubbub side by side with what users would otherwise pick, driven by ONE load client
 * (scripts/bench/load-client.mjs) in one run:
 *   - naive      plain `ws`, JSON.stringify + send() per recipient        (scripts/bench/ws-server.mjs --mode=naive)
 *   - coalesced  plain `ws`, framed once, writes coalesced per loop turn  (ws-server.mjs --mode=coalesced): the floor
 *   - socketio   Socket.IO 4 with rooms                                   (scripts/bench/socketio-server.mjs)
 *   - hubbub     node dist/main.js, production settings, SQLite
 * Every figure is also printed as a ratio to the coalesced server, next to the issue-11 target.
 *
 * Per server, on one process: connects/s (100 handshakes at a time, JWT checked everywhere), fan-out to 2000
 * subscribers with 1, 8 and 32 publishes in flight (deliveries/s, p50/p99), p50/p99 at a fixed 5 publishes/s, and
 * server CPU per inbound `ping` (1000 connections × 10 requests/s; CPU seconds from /proc ÷ replies). Hubbub also:
 * CPU per `chat.send` (same load, rooms of 10). Then on a fresh process: RSS per idle, authenticated, subscribed
 * connection at 1 k, 10 k and 50 k (capped by the hard file limit, see below). Then two Hubbub instances over
 * Redis + PostgreSQL: the cross-instance hop at 5 publishes/s, p50/p99, beside the same-instance figure. Then the
 * reconnect storm (stormPhase): 5,000 clients with `since` reconnecting at once to a restarted instance and catching
 * up, beside as many plain connects, from one source address and from 8. Then (redis-cluster.mjs) channel fan-out
 * across 3 instances on one Redis beside the same on a Redis Cluster, with the CPU each Redis process spent. Every phase connects from one address
 * unless it says otherwise: Hubbub has no per-address cap on pending connections (MAX_PENDING_CONNECTIONS).
 *
 * Pinning: servers run under `taskset -c 0`, the load client under `taskset -c 1` (when taskset exists). Each figure
 * prints the CPU of the server, of the load client and of everything else, and the 1-minute load average, so a
 * reader can judge the run. File limit: the servers and the load client are started under `ulimit -n` raised to the
 * hard limit; more connections than the hard limit allows are capped and the cap is printed.
 *
 * Rounds: the throughput figures (connects, fan-out, fixed rate, CPU per request) vary by ±15% from one run to the
 * next on a shared VM, more than some of the differences measured. So they are taken in 3 rounds (1 with --quick),
 * each server once per round, each round starting with another server; the table shows the median of each figure,
 * and a second table Hubbub ÷ the floor in each round, with the median and the range.
 *
 * Flags: --quick (small sizes, to try it) · --servers=naive,coalesced,socketio,hubbub · --skip=memory,hop,storm,...
 *        --rounds=N · --no-build · --profile (Hubbub under --cpu-prof / --heapsnapshot-signal; files in a temp dir)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, platform, arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PROD_NODE_FLAGS,
  ensureBuilt,
  freePort,
  hardFileLimit,
  hasTaskset,
  hubbubArgv,
  markdownTable,
  readRssKb,
  sleep,
  startLoadClient as launchLoadClient,
  startServer as launchServer,
  stopServer,
  withCpu,
} from './harness.mjs';
import { redisClusterPhase, redisClusterTable } from './redis-cluster.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ALL = ['naive', 'coalesced', 'socketio', 'hubbub'];
const LABEL = {
  naive: 'naive ws',
  coalesced: 'ws coalesced',
  socketio: 'Socket.IO',
  hubbub: 'Hubbub',
};

const FULL = {
  connects: 2000,
  subscribers: 2000,
  warmup: 100,
  fanout: [
    { window: 1, messages: 150 },
    { window: 8, messages: 300 },
    { window: 32, messages: 600 },
  ],
  sampleEvery: 50,
  fanoutMaxMs: 6000, // a fan-out run stops publishing after this (a slow server publishes fewer messages)
  rate: { perSec: 5, seconds: 6 },
  requests: { connections: 1000, perSec: 10, seconds: 5 },
  memory: [1000, 10000, 50000],
  hop: { subscribers: 200, perSec: 5, seconds: 6 },
  storm: { clients: 5000, missed: 10 },
  rounds: 3,
};
const QUICK = {
  ...FULL,
  connects: 500,
  subscribers: 500,
  warmup: 50,
  fanout: FULL.fanout.map((f) => ({ ...f, messages: f.messages / 3 })),
  rate: { perSec: 5, seconds: 2 },
  requests: { connections: 250, perSec: 10, seconds: 2 },
  memory: [250, 2500, 5000],
  hop: { subscribers: 50, perSec: 5, seconds: 2 },
  storm: { clients: 200, missed: 5 },
  rounds: 1,
};

const flags = parseFlags(process.argv.slice(2));
const sizes = {
  ...(flags.quick ? QUICK : FULL),
  ...(flags.rounds ? { rounds: flags.rounds } : {}),
};
const HARD_NOFILE = hardFileLimit();
const secret = randomBytes(32).toString('base64url');

function parseFlags(argv) {
  const list = (name, fallback) =>
    argv
      .find((a) => a.startsWith(`--${name}=`))
      ?.split('=')[1]
      .split(',') ?? fallback;
  const unknown = argv.filter(
    (a) => !/^--(quick|no-build|profile|servers=.*|skip=.*|rounds=[1-9]\d*)$/.test(a),
  );
  if (unknown.length)
    throw new Error(`unknown flag(s): ${unknown.join(' ')} (see scripts/bench/run.mjs)`);
  return {
    quick: argv.includes('--quick'),
    noBuild: argv.includes('--no-build'),
    profile: argv.includes('--profile'),
    servers: list('servers', ALL),
    skip: list('skip', []),
    rounds: Number(list('rounds', [0])[0]),
  };
}

// ───────────────────────────────────── processes ─────────────────────────────────────

/** Servers run on core 0, the load client on core 1, both under a file limit for the largest memory size. */
const nofile = () => Math.max(...sizes.memory) + 2000;

/** Hubbub exactly as production starts it (harness.mjs: start:prod's Node flags), or a comparison server. */
function startServer(kind, env = {}, port = undefined) {
  const profiling =
    kind === 'hubbub' && flags.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir()}`, '--heapsnapshot-signal=SIGUSR2']
      : [];
  const argv = {
    hubbub: hubbubArgv(profiling),
    naive: [join(HERE, 'ws-server.mjs'), '--mode=naive'],
    coalesced: [join(HERE, 'ws-server.mjs'), '--mode=coalesced'],
    socketio: [join(HERE, 'socketio-server.mjs')],
  }[kind];
  return launchServer({ name: LABEL[kind], argv, secret, env, port, core: 0, nofile: nofile() });
}

function startLoadClient() {
  return launchLoadClient(join(HERE, 'load-client.mjs'), [], { core: 1, nofile: nofile() });
}

// ───────────────────────────────────── measuring ─────────────────────────────────────

/**
 * A fresh server of this kind and a load client for one phase; the server's last output is printed when the phase
 * fails, and both are stopped whatever happens.
 */
async function withServer(kind, phase) {
  const server = await startServer(kind);
  const client = startLoadClient();
  try {
    return await phase(server, client);
  } catch (err) {
    console.error(`[${LABEL[kind]}] server output:\n${server.output.slice(-15).join('\n')}`);
    throw err;
  } finally {
    await client.stop();
    await stopServer(server);
  }
}

/** The first process: connects/s, fan-out, fixed rate, CPU per request. */
function throughputRound(kind, r) {
  const say = (text) => console.log(`[${LABEL[kind]}] ${text}`);
  return withServer(kind, async (server, client) => {
    await client.call('init', {
      dialect: kind === 'socketio' ? 'socketio' : 'hubbub',
      port: server.port,
      secret,
      sources: sources(1),
    });
    if (!flags.skip.includes('connects')) {
      await client.call('connect', { upTo: 100 }); // warm-up
      await client.call('closeAll');
      r.connects = await withCpu(server, client, () =>
        client.call('connect', { upTo: sizes.connects }),
      );
      say(`connects/s ${fmtInt(r.connects.connectsPerSec)} ${fmtCpu(r.connects)}`);
    }
    if (!flags.skip.includes('fanout')) {
      await client.call('connect', { upTo: sizes.subscribers });
      await client.call('subscribe', { upTo: sizes.subscribers, channel: 'bench' });
      const base = {
        subscribers: sizes.subscribers,
        channel: 'bench',
        sampleEvery: sizes.sampleEvery,
      };
      await client.call('fanout', { ...base, window: 8, messages: sizes.warmup });
      r.fanout = {};
      for (const { window, messages } of sizes.fanout) {
        const run = await withCpu(server, client, () =>
          client.call('fanout', { ...base, window, messages, maxMs: sizes.fanoutMaxMs }),
        );
        r.fanout[window] = run;
        say(
          `fan-out ${window} in flight: ${fmtInt(run.deliveriesPerSec)} deliveries/s, p50/p99 ${fmtMs(run)} ms, ${run.received}/${run.expected} ${fmtCpu(run)}`,
        );
      }
      r.rate = await withCpu(server, client, () => client.call('rate', { ...base, ...sizes.rate }));
      say(`${sizes.rate.perSec} publishes/s: p50/p99 ${fmtMs(r.rate)} ms ${fmtCpu(r.rate)}`);
    }
    await client.call('closeAll');
    const events = kind === 'hubbub' ? ['ping', 'chat.send'] : ['ping'];
    for (const event of flags.skip.includes('requests') ? [] : events) {
      await client.call('prepareRequests', { ...sizes.requests, event });
      await sleep(500);
      const run = await withCpu(server, client, () =>
        client.call('driveRequests', { ...sizes.requests, event }),
      );
      await client.call('closeRequesters');
      run.usPerRequest = (run.serverSec * 1e6) / run.replies;
      (r.requests ??= {})[event] = run;
      const lost = run.errors ? ` (${run.errors} errors: ${run.firstError})` : '';
      say(
        `${event}: ${run.usPerRequest.toFixed(1)} µs server CPU per request, ${run.replies}/${run.sent} replies${lost} ${fmtCpu(run)}`,
      );
    }
  });
}

/** A fresh process: RSS per idle, authenticated, subscribed connection at each size. */
function memoryPhase(kind, results) {
  const cap = HARD_NOFILE - 1000;
  const counts = sizes.memory.map((n) => Math.min(n, cap));
  const r = (results[kind] ??= {});
  r.memory = [];
  return withServer(kind, async (server, client) => {
    // Enough source addresses for the client's ports (about 20 k each): one up to 20 k connections.
    const nSources = Math.ceil(Math.max(...counts) / 20000);
    await client.call('init', {
      dialect: kind === 'socketio' ? 'socketio' : 'hubbub',
      port: server.port,
      secret,
      sources: sources(nSources),
    });
    await client.call('connect', { upTo: 200 });
    await client.call('subscribe', { upTo: 200, channel: 'idle' });
    await client.call('closeAll');
    await sleep(1000);
    const before = readRssKb(server.pid);
    for (const [i, count] of counts.entries()) {
      await client.call('connect', { upTo: count, concurrency: 200 });
      await client.call('subscribe', { upTo: count, channel: 'idle' });
      await sleep(1000);
      const rss = readRssKb(server.pid);
      const m = {
        asked: sizes.memory[i],
        count,
        rssMb: rss / 1024,
        perConnKb: (rss - before) / count,
      };
      r.memory.push(m);
      const capped = count < m.asked ? ` (capped: hard file limit ${HARD_NOFILE})` : '';
      console.log(
        `[${LABEL[kind]}] RSS per connection at ${count}${capped}: ${m.perConnKb.toFixed(1)} KB (${(before / 1024).toFixed(0)} → ${m.rssMb.toFixed(0)} MB)`,
      );
    }
  });
}

/** Cluster mode's environment for the bench's Hubbub instances: its own PostgreSQL database (made if missing), Redis. */
async function clusterEnv() {
  const database =
    process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hubbub_bench';
  await ensureDatabase(database);
  return {
    DATABASE_URL: database,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** Two Hubbub instances sharing Redis and PostgreSQL: a publication's hop from one to the other, at 5/s. */
async function hopPhase(results) {
  const env = await clusterEnv();
  const a = await startServer('hubbub', env);
  const b = await startServer('hubbub', env);
  const client = startLoadClient();
  const channel = `bench.hop-${randomBytes(4).toString('hex')}`;
  try {
    await client.call('init', { dialect: 'hubbub', port: b.port, secret, sources: sources(1) });
    await client.call('connect', { upTo: sizes.hop.subscribers });
    await client.call('subscribe', { upTo: sizes.hop.subscribers, channel });
    const args = { subscribers: sizes.hop.subscribers, channel, ...sizes.hop };
    await client.call('rate', { ...args, seconds: 1, publishPort: a.port }); // warm-up both paths
    const same = await withCpu([a, b], client, () =>
      client.call('rate', { ...args, publishPort: b.port }),
    );
    const cross = await withCpu([a, b], client, () =>
      client.call('rate', { ...args, publishPort: a.port }),
    );
    results.hop = { same, cross };
    console.log(
      `[Hubbub ×2] ${sizes.hop.perSec}/s to ${sizes.hop.subscribers} subscribers: same instance p50/p99 ${fmtMs(same)} ms, across Redis ${fmtMs(cross)} ms`,
    );
  } finally {
    await client.stop();
    await stopServer(a);
    await stopServer(b);
  }
}

/**
 * Reconnect storm: `storm.clients` clients subscribed to a channel (Redis keeps its window) lose their instance to a
 * restart; while they are away `storm.missed` messages are published on the new process; then all of them reconnect
 * at once, each subscribing with its `since` and `epoch`. Figure: the time until the last one has its missed
 * messages, beside the time for as many plain connects at once, from one source address (a proxy, a NAT) and from 8.
 */
async function stormPhase(results) {
  const env = await clusterEnv();
  const { clients: count, missed } = sizes.storm;
  results.storm = {};
  for (const [from, n] of [
    ['one address', 1],
    ['8 addresses', 8],
  ]) {
    const port = await freePort();
    const channel = `bench.storm-${randomBytes(4).toString('hex')}`;
    let server = await startServer('hubbub', env, port);
    const client = startLoadClient();
    try {
      await client.call('init', { dialect: 'hubbub', port, secret, sources: sources(n) });
      await client.call('stormSubscribe', { count, channel });
      await stopServer(server); // its clients are closed (1001)
      server = await startServer('hubbub', env, port);
      await client.call('stormPublish', { channel, messages: missed });
      const storm = await client.call('stormReconnect', { channel, missed });
      const plain = await client.call('connectAtOnce', { count });
      results.storm[from] = { storm, plain };
      const problems = (r) =>
        r.errors || r.incomplete || r.retries
          ? ` (${r.retries} retries, ${r.errors} failed${r.incomplete ? `, ${r.incomplete} incomplete` : ''}${r.firstError ? `; first error: ${r.firstError}` : ''})`
          : '';
      console.log(
        `[Hubbub] reconnect storm from ${from}: ${count} clients with since, the last has its ${missed} missed ` +
          `messages after ${fmtSec(storm.seconds)}${problems(storm)}; ${count} plain connects at once: ` +
          `${fmtSec(plain.seconds)}${problems(plain)}`,
      );
      if (storm.errors || storm.incomplete || plain.errors)
        throw new Error(`reconnect storm from ${from}: clients lost or not caught up`);
    } finally {
      await client.stop();
      await stopServer(server);
    }
  }
}

function stormTable(storm) {
  const rows = Object.entries(storm).map(([from, { storm: s, plain: p }]) => [
    from,
    fmtInt(s.count),
    fmtSec(s.seconds),
    fmtSec(p.seconds),
    (s.seconds / p.seconds).toFixed(2),
    `${fmtInt(s.retries)} / ${fmtInt(p.retries)}`,
  ]);
  return markdownTable([
    [
      'restarted instance, clients at once from',
      'clients',
      'with since: until the last has its missed messages',
      'plain connects: until the last is welcomed',
      'ratio',
      'retries (since / plain)',
    ],
    ...rows,
  ]);
}

const fmtSec = (s) => `${s.toFixed(2)} s`;

async function ensureDatabase(url) {
  const { default: pg } = await import('pg');
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rowCount) await c.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
  await c.end();
}

// ───────────────────────────────────── report ─────────────────────────────────────

const TARGETS = {
  fanout: (x) => [x >= 1.0, '≥ 1.0×'],
  rate: (x) => [x <= 1.2, '≤ 1.2×'],
  memory: (x) => [x <= 1.3, '≤ 1.3×'],
  connects: (x) => [x >= 0.8, '≥ 0.8×'],
  ping: (x) => [x <= 1.3, '≤ 1.3×'],
};

function report(results) {
  const kinds = flags.servers;
  const header = ['figure', ...kinds.map((k) => LABEL[k]), 'Hubbub ÷ coalesced', 'target'];
  const rows = [];
  const row = (name, get, fmt, target) => {
    const values = kinds.map((k) => (results[k] ? get(results[k]) : undefined));
    const floor = results.coalesced ? get(results.coalesced) : undefined;
    const cells = values.map((v) =>
      v === undefined || Number.isNaN(v)
        ? '–'
        : floor && floor === floor
          ? `${fmt(v)} (${(v / floor).toFixed(2)})`
          : fmt(v),
    );
    const h = results.hubbub ? get(results.hubbub) : undefined;
    let verdict = '';
    if (target && h !== undefined && floor) {
      const [met, text] = TARGETS[target](h / floor);
      verdict = `${text} ${met ? 'met' : 'MISSED'}`;
    }
    rows.push([
      name,
      ...cells,
      h !== undefined && floor ? `${(h / floor).toFixed(2)}×` : '',
      verdict,
    ]);
  };
  for (const { window } of sizes.fanout) {
    row(
      `fan-out deliveries/s, ${window} in flight`,
      (r) => r.fanout?.[window]?.deliveriesPerSec,
      fmtInt,
      'fanout',
    );
    row(
      `  p50 / p99 ms`,
      (r) => r.fanout?.[window]?.p99,
      (v) => v.toFixed(1),
      undefined,
    );
    rows[rows.length - 1] = [
      '  p50 / p99 ms',
      ...kinds.map((k) => (results[k]?.fanout ? fmtMs(results[k].fanout[window]) : '–')),
      '',
      '',
    ];
    rows.push([
      '  CPU server / client / others',
      ...kinds.map((k) => fmtCpuCell(results[k]?.fanout?.[window])),
      '',
      '',
    ]);
  }
  for (const { window } of sizes.fanout) {
    // On a shared machine a starved server delivers less per second; per CPU-second it compares the code.
    const perCpu = (r) =>
      r.fanout?.[window] && r.fanout[window].deliveriesPerSec / r.fanout[window].cpu.server;
    row(`deliveries per server CPU-second, ${window} in flight`, perCpu, fmtInt);
  }
  row(
    `p99 ms at ${sizes.rate.perSec} publishes/s`,
    (r) => r.rate?.p99,
    (v) => v.toFixed(2),
    'rate',
  );
  row(
    `  p50 ms at ${sizes.rate.perSec} publishes/s`,
    (r) => r.rate?.p50,
    (v) => v.toFixed(2),
  );
  sizes.memory.forEach((asked, i) => {
    const count =
      results.hubbub?.memory?.[i]?.count ?? results.coalesced?.memory?.[i]?.count ?? asked;
    const name = `RSS KB per idle subscribed conn, ${fmtInt(count)}${count < asked ? ` (asked ${fmtInt(asked)})` : ''}`;
    row(
      name,
      (r) => r.memory?.[i]?.perConnKb,
      (v) => v.toFixed(1),
      i === 1 ? 'memory' : undefined,
    );
  });
  const last = sizes.memory.length - 1;
  sizes.memory.slice(1).forEach((_, j) => {
    const [lo, hi] = [j, j + 1];
    const slope = (r) => {
      const [a, b] = [r.memory?.[lo], r.memory?.[hi]];
      return a && b && b.count > a.count
        ? ((b.rssMb - a.rssMb) * 1024) / (b.count - a.count)
        : undefined;
    };
    const count = (i) =>
      fmtInt(
        results.hubbub?.memory?.[i]?.count ??
          results.coalesced?.memory?.[i]?.count ??
          sizes.memory[i],
      );
    row(`  marginal RSS KB per conn, ${count(lo)} → ${count(hi)}`, slope, (v) => v.toFixed(1));
  });
  row(
    '  RSS/conn at largest ÷ at 2nd size',
    (r) => (r.memory?.[last] ? r.memory[last].perConnKb / r.memory[1].perConnKb : undefined),
    (v) => v.toFixed(2),
  );
  row(
    'connects/s, 100 at a time (JWT checked)',
    (r) => r.connects?.connectsPerSec,
    fmtInt,
    'connects',
  );
  rows.push([
    '  CPU server / client / others',
    ...kinds.map((k) => fmtCpuCell(results[k]?.connects)),
    '',
    '',
  ]);
  row(
    'server CPU µs per `ping`',
    (r) => r.requests?.ping?.usPerRequest,
    (v) => v.toFixed(1),
    'ping',
  );
  rows.push([
    '  CPU server / client / others',
    ...kinds.map((k) => fmtCpuCell(results[k]?.requests?.ping)),
    '',
    '',
  ]);
  row(
    'server CPU µs per `chat.send` (SQLite)',
    (r) => r.requests?.['chat.send']?.usPerRequest,
    (v) => v.toFixed(1),
  );
  if (results.hop) {
    rows.push([
      `Hubbub ×2 (Redis), ${sizes.hop.perSec}/s: p50 / p99 ms same instance → across`,
      ...kinds.map((k) =>
        k === 'hubbub' ? `${fmtMs(results.hop.same)} → ${fmtMs(results.hop.cross)}` : '–',
      ),
      '',
      '',
    ]);
  }
  const flat =
    results.hubbub?.memory?.[last] &&
    results.hubbub.memory[last].perConnKb / results.hubbub.memory[1].perConnKb;
  if (flat)
    rows.push([
      'Hubbub RSS/conn flat (largest within 10% of 2nd size)',
      ...kinds.map(() => ''),
      `${flat.toFixed(2)}`,
      `0.90–1.10 ${Math.abs(flat - 1) <= 0.1 ? 'met' : 'MISSED'}`,
    ]);
  rows.push([
    'load average (1 min) during the runs',
    ...kinds.map((k) => results[k]?.loads?.join(' – ') ?? ''),
    '',
    '',
  ]);
  return markdownTable([header, ...rows]);
}

const fmtInt = (n) =>
  n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US');
const fmtMs = (r) => (r ? `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}` : '–');
const pct = (x) => `${Math.round(x * 100)}%`;
const fmtCpu = (r) =>
  `(CPU server ${pct(r.cpu.server)}, client ${pct(r.cpu.client)}, others ${pct(r.cpu.others)}, load ${r.load.toFixed(1)})`;
const fmtCpuCell = (r) =>
  r ? `${pct(r.cpu.server)} / ${pct(r.cpu.client)} / ${pct(r.cpu.others)}` : '–';

/** The median of each number found at the same place in `values` (objects walked key by key). */
function medianOf(values) {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length === 0) return undefined;
  if (present.every((v) => typeof v === 'number')) {
    const sorted = [...present].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
  if (present.every((v) => typeof v === 'object' && !Array.isArray(v))) {
    const keys = new Set(present.flatMap((v) => Object.keys(v)));
    return Object.fromEntries([...keys].map((k) => [k, medianOf(present.map((v) => v[k]))]));
  }
  return present[0];
}

/** Hubbub ÷ the floor in each round, for the figures with a target: how far one round is from another. */
function spread(rounds) {
  const figures = [
    ...sizes.fanout.map(({ window }) => [
      `fan-out deliveries/s, ${window} in flight`,
      (r) => r.fanout?.[window]?.deliveriesPerSec,
    ]),
    ...sizes.fanout.map(({ window }) => [
      `deliveries per server CPU-second, ${window} in flight`,
      (r) => r.fanout?.[window] && r.fanout[window].deliveriesPerSec / r.fanout[window].cpu.server,
    ]),
    [`p99 at ${sizes.rate.perSec} publishes/s`, (r) => r.rate?.p99],
    ['connects/s', (r) => r.connects?.connectsPerSec],
    ['server CPU per `ping`', (r) => r.requests?.ping?.usPerRequest],
  ];
  const rows = figures.map(([name, get]) => {
    const ratios = rounds.map((round) =>
      round.hubbub && round.coalesced ? get(round.hubbub) / get(round.coalesced) : NaN,
    );
    const ok = ratios.filter((x) => Number.isFinite(x));
    return [
      name,
      ...ratios.map((x) => (Number.isFinite(x) ? x.toFixed(2) : '–')),
      ok.length ? medianOf(ok).toFixed(2) : '–',
      ok.length ? `${Math.min(...ok).toFixed(2)} – ${Math.max(...ok).toFixed(2)}` : '–',
    ];
  });
  const header = [
    'Hubbub ÷ coalesced ws',
    ...rounds.map((_, i) => `round ${i + 1}`),
    'median',
    'range',
  ];
  return markdownTable([header, ...rows]);
}

// ───────────────────────────────────── main ─────────────────────────────────────

function sources(n) {
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
}
let profiles;
function profileDir() {
  return (profiles ??= mkdtempSync(join(tmpdir(), 'hubbub-prof-')));
}

async function main() {
  if (flags.servers.includes('hubbub')) ensureBuilt({ noBuild: flags.noBuild });
  const cpu = cpus();
  console.log(
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim()}, ${platform()} ${arch()}, Node ${process.version}; ` +
      `taskset ${hasTaskset() ? 'yes (servers on core 0, load client on core 1)' : 'absent (not pinned)'}; ` +
      `hard file limit ${HARD_NOFILE}; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}\n` +
      `Hubbub: node ${[...PROD_NODE_FLAGS, 'dist/main.js'].join(' ')}\n`,
  );
  const results = {};
  const t0 = Date.now();
  // One server failing (its output is printed) does not stop the others; the run then exits 1 after the report.
  let failed = 0;
  const attempt = (phase, kind, into) =>
    phase(kind, into).catch((err) => {
      failed++;
      console.error(`[${LABEL[kind]}] FAILED: ${err?.message ?? err}`);
      (into[kind] ??= {}).failed = true;
    });
  const loads = Object.fromEntries(flags.servers.map((kind) => [kind, []]));
  const noteLoad = (kind) => loads[kind].push(loadavg()[0].toFixed(1));
  // Throughput: `rounds` rounds, each server once per round, each round starting with another server, so that a
  // machine that drifts (a neighbour on the host) does not always favour the same one. Figures are the medians.
  const rounds = [];
  for (let i = 0; i < sizes.rounds; i++) {
    const round = {};
    const order = flags.servers.map((_, j) => flags.servers[(i + j) % flags.servers.length]);
    for (const kind of order) {
      noteLoad(kind);
      await attempt((k) => throughputRound(k, (round[k] = {})), kind, round);
      noteLoad(kind);
    }
    rounds.push(round);
  }
  for (const kind of flags.servers) {
    const ok = rounds.map((round) => round[kind]).filter((r) => r && !r.failed);
    results[kind] = ok.length ? medianOf(ok) : { failed: true };
  }
  for (const kind of flags.servers) {
    if (!flags.skip.includes('memory')) {
      noteLoad(kind);
      await attempt(memoryPhase, kind, results);
      noteLoad(kind);
    }
    results[kind].loads = [Math.min(...loads[kind]), Math.max(...loads[kind])];
  }
  if (flags.servers.includes('hubbub') && !flags.skip.includes('hop'))
    await hopPhase(results).catch((err) => {
      failed++;
      console.error(`[Hubbub ×2] FAILED: ${err?.message ?? err}`);
    });
  if (flags.servers.includes('hubbub') && !flags.skip.includes('storm'))
    await stormPhase(results).catch((err) => {
      failed++;
      console.error(`[Hubbub storm] FAILED: ${err?.message ?? err}`);
    });
  if (flags.servers.includes('hubbub') && !flags.skip.includes('redis-cluster'))
    await (async () => {
      const { DATABASE_URL } = await clusterEnv();
      results.redisCluster = await redisClusterPhase({
        startHubbub: (env) => startServer('hubbub', env),
        secret,
        databaseUrl: DATABASE_URL,
        quick: flags.quick,
      });
      console.log(`[Hubbub ×3] ${redisClusterTable(results.redisCluster)}`);
    })().catch((err) => {
      failed++;
      console.error(`[Hubbub redis-cluster] FAILED: ${err?.message ?? err}`);
    });
  if (rounds.length > 1) console.log(`\n${spread(rounds)}`);
  console.log(
    `\n${report(results)}\n\n(${((Date.now() - t0) / 1000).toFixed(0)} s; cells: value (÷ coalesced ws)` +
      `${rounds.length > 1 ? `; throughput figures: medians of ${rounds.length} rounds` : ''})`,
  );
  if (results.storm && Object.keys(results.storm).length)
    console.log(`\nReconnect storm\n${stormTable(results.storm)}`);
  if (results.redisCluster) console.log(`\n${redisClusterTable(results.redisCluster)}`);
  if (profiles) console.log(`Hubbub CPU profiles in ${profiles}`);
  if (failed > 0) {
    console.error(`bench: ${failed} phase(s) failed, see above`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench: ${err?.stack ?? err}`);
  process.exit(1);
});
