#!/usr/bin/env node
/**
 * Chat store comparison, run by `npm run bench` (phase `chat-stores`) or alone:
 *   node scripts/bench-chat.mjs [--quick] [--seconds=N] [--rounds=N]
 *
 * The same Hubbub build (dist/main.js, production settings) is started twice, once on SQLite (a file in a temp
 * dir, WAL, synchronous=FULL) and once on PostgreSQL (DATABASE_URL, its own fresh schema, dropped afterwards), and
 * driven through two scenarios, each with 50 senders keeping one `chat.send` in flight:
 *   - one room:  all 50 senders in one room (every message is also pushed to the 49 others);
 *   - spread:    50 senders over 500 rooms, each sender in 10 rooms of its own, sending to them in turn.
 * For each: acks/s, and p50 / p99 of the ack latency (send → reply, i.e. → durable commit), after a 1 s warm-up.
 * Then the PostgreSQL / SQLite ratios against the target (acks/s ≥ 0.8×, p99 < 2×).
 *
 * Everything runs on 127.0.0.1. PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test; when it does not answer, the PostgreSQL half is skipped with one line.
 * The load client is a forked copy of this script (`--load-client`), so the server keeps a core of its own.
 */
import { fork, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST_MAIN = join(ROOT, 'dist', 'main.js');
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const SENDERS = 50;
const SCENARIOS = [
  { name: 'one room', label: `${SENDERS} senders, 1 room`, rooms: 1, roomsPerSender: 1 },
  { name: 'spread', label: `${SENDERS} senders, 500 rooms`, rooms: 500, roomsPerSender: 10 },
];
const TARGET = { acks: 0.8, p99: 2 };

// ─────────────────────────────────────────── orchestrator ───────────────────────────────────────────

export async function runChatStores({ quick = false, seconds, rounds = 1 } = {}) {
  const measureSeconds = seconds ?? (quick ? 2 : 5);
  const secret = randomBytes(32).toString('base64url');
  // Both servers up at once (an idle one costs nothing), runs interleaved: SQLite then PostgreSQL per scenario, so
  // a change in the machine's load hits both sides of a ratio alike. With --rounds=N, the median of N runs.
  const db = await createSchema();
  const servers = { sqlite: await startServer(secret) };
  const client = startLoadClient();
  const runs = {};
  try {
    if (db) servers.postgres = await startServer(secret, db.url);
    for (let round = 0; round < rounds; round++) {
      for (const scenario of SCENARIOS) {
        for (const [backend, server] of Object.entries(servers)) {
          const before = [readCpuSeconds(server.child.pid), readBusySeconds(), performance.now()];
          const r = await client.call('run', {
            port: server.port,
            secret,
            scenario,
            seconds: measureSeconds,
          });
          const wall = (performance.now() - before[2]) / 1000;
          r.serverCpu = (readCpuSeconds(server.child.pid) - before[0]) / wall;
          r.machineCpu = (readBusySeconds() - before[1]) / wall;
          ((runs[backend] ??= {})[scenario.name] ??= []).push(r);
          console.log(
            `[chat ${backend}] ${scenario.label}: ${fmtInt(r.perSec)} acks/s, p50 ${r.p50.toFixed(1)} ms, ` +
              `p99 ${r.p99.toFixed(1)} ms (CPU: Hubbub ${pct(r.serverCpu)}, whole machine ${pct(r.machineCpu)} ` +
              `of ${cpus().length} cores)`,
          );
        }
      }
    }
  } finally {
    await client.stop();
    await Promise.all(Object.values(servers).map(stopServer));
    await db?.drop();
  }
  const results = {};
  for (const [backend, byScenario] of Object.entries(runs)) {
    results[backend] = {};
    for (const [name, list] of Object.entries(byScenario)) {
      results[backend][name] = {
        perSec: median(list.map((r) => r.perSec)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
      };
    }
  }
  console.log(`\n${renderTable(results, rounds)}`);
  return results;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15, 1/100 s ticks). */
function readCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU time all cores spent not idle, from /proc/stat (1/100 s ticks). */
function readBusySeconds() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

const pct = (x) => `${Math.round(x * 100)}%`;

/** A fresh schema for this run (the URL's search_path points at it); undefined when PostgreSQL is down. */
async function createSchema() {
  const schema = `hubbub_bench_${randomBytes(4).toString('hex')}`;
  const sql = async (text) => {
    const c = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  try {
    await sql(`CREATE SCHEMA "${schema}"`);
  } catch (e) {
    console.log(
      `[chat postgres] skipped: PostgreSQL at ${redact(DATABASE_URL)} does not answer (${e.message})`,
    );
    return undefined;
  }
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => sql(`DROP SCHEMA "${schema}" CASCADE`) };
}

async function startServer(secret, databaseUrl) {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'hubbub-bench-chat-'));
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: secret,
    ALLOWED_ORIGINS: 'http://localhost',
    DEV_TOKENS: 'false',
    SQLITE_PATH: join(cwd, 'hubbub.db'),
    RATE_LIMIT_PER_SEC: '1000000',
    RATE_LIMIT_BURST: '1000000',
    LOG_LEVEL: 'warn',
    NODE_ID: 'bench-chat',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  const child = spawn(process.execPath, [DIST_MAIN], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { port, child, cwd, output: [], exited: false };
  const keep = (chunk) => {
    server.output.push(...chunk.toString().split('\n').filter(Boolean));
    server.output.splice(0, server.output.length - 30);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      server.exited = true;
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exited) throw new Error(`server exited during start:\n${server.output.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not healthy within 30 s:\n${server.output.join('\n')}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopServer(server) {
  if (!server.exited) server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await server.exit;
  clearTimeout(timer);
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
    call(cmd, args) {
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

function renderTable(results, rounds) {
  const rows = [['scenario', 'metric', 'SQLite', 'PostgreSQL', 'PostgreSQL ÷ SQLite', `target`]];
  for (const { name, label } of SCENARIOS) {
    const s = results.sqlite?.[name];
    const p = results.postgres?.[name];
    const ratio = (x, y) => (x !== undefined && y ? x / y : undefined);
    const acks = ratio(p?.perSec, s?.perSec);
    const p99 = ratio(p?.p99, s?.p99);
    const mark = (ok) => (ok === undefined ? '' : ok ? 'met' : 'MISSED');
    rows.push([
      `chat.send: ${label}, 1 in flight each`,
      'acks/s',
      fmtInt(s?.perSec),
      fmtInt(p?.perSec),
      fmtRatio(acks),
      `≥ ${TARGET.acks}× ${mark(acks === undefined ? undefined : acks >= TARGET.acks)}`,
    ]);
    rows.push([
      '',
      'ack latency p50 (ms)',
      fmtMs(s?.p50),
      fmtMs(p?.p50),
      fmtRatio(ratio(p?.p50, s?.p50)),
      '',
    ]);
    rows.push([
      '',
      'ack latency p99 (ms)',
      fmtMs(s?.p99),
      fmtMs(p?.p99),
      fmtRatio(p99),
      `< ${TARGET.p99}× ${mark(p99 === undefined ? undefined : p99 < TARGET.p99)}`,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

const fmtInt = (n) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n) => (n === undefined ? 'n/a' : n.toFixed(1));
const fmtRatio = (x) => (x === undefined ? 'n/a' : `${x.toFixed(2)}×`);
const redact = (url) => url.replace(/\/\/[^@/]*@/, '//…@');

// ───────────────────────────────────────────── load client ─────────────────────────────────────────────

function signToken(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const PUSH_PREFIXES = ['{"event":"chat.message"', '{"event":"presence.'].map((p) => Buffer.from(p));

/** A sender: one WebSocket, requests by id; pushes (chat.message from the others) are skipped unparsed. */
class Sender {
  static open(port, token) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
        headers: { authorization: `Bearer ${token}` },
        perMessageDeflate: false,
      });
      const sender = new Sender(ws);
      ws.once('error', reject);
      ws.once('message', () => resolve(sender)); // the welcome
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.pending = new Map();
    this.nextId = 1;
    ws.on('message', (data) => {
      // Pushes (chat.message from the others, presence.*) are not measured: skip them unparsed.
      if (PUSH_PREFIXES.some((p) => data.subarray(0, p.length).equals(p))) return;
      const message = JSON.parse(data.toString());
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.event === 'error')
        waiter.reject(new Error(`${message.data.code}: ${message.data.message}`));
      else waiter.resolve(message.data);
    });
  }

  request(event, data) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ event, id, data }));
    });
  }
}

const run = 'r' + randomBytes(3).toString('hex');

async function runScenario({ port, secret, scenario, seconds }) {
  const senders = await Promise.all(
    Array.from({ length: SENDERS }, (_, i) =>
      Sender.open(port, signToken(secret, { sub: `chatter-${i}`, name: `Chatter ${i}` })),
    ),
  );
  // Sender i's rooms: i, i + 50, i + 100, … (mod the room count): in "one room" all share room 0.
  const roomsOf = (i) =>
    Array.from(
      { length: scenario.roomsPerSender },
      (_, k) => `bench.${run}.${scenario.rooms}.${(i + k * SENDERS) % scenario.rooms}`,
    );
  await Promise.all(
    senders.flatMap((s, i) => roomsOf(i).map((room) => s.request('chat.join', { room }))),
  );
  const drive = async (untilMs, latencies) => {
    await Promise.all(
      senders.map(async (s, i) => {
        const rooms = roomsOf(i);
        for (let n = 0; performance.now() < untilMs; n++) {
          const start = performance.now();
          await s.request('chat.send', {
            room: rooms[n % rooms.length],
            text: `message ${n} from ${i}`,
          });
          latencies?.push(performance.now() - start);
        }
      }),
    );
  };
  await drive(performance.now() + 1000); // warm-up: JIT, pools, counter rows
  const latencies = [];
  const t0 = performance.now();
  await drive(t0 + seconds * 1000, latencies);
  const elapsedMs = performance.now() - t0;
  for (const s of senders) s.ws.terminate();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    acked: latencies.length,
    perSec: latencies.length / (elapsedMs / 1000),
    p50: pct(0.5),
    p99: pct(0.99),
  };
}

function runLoadClient() {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      if (cmd !== 'run') throw new Error(`unknown command ${cmd}`);
      process.send({ id, result: await runScenario(args) });
    } catch (err) {
      process.send({ id, error: err?.stack ?? String(err) });
    }
  });
  process.on('SIGTERM', () => process.exit(0));
}

// ─────────────────────────────────────────────── entry ───────────────────────────────────────────────

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === '--load-client') {
  runLoadClient();
} else if (isMain) {
  const argv = process.argv.slice(2);
  const value = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  runChatStores({
    quick: argv.includes('--quick'),
    seconds: value('seconds') && Number(value('seconds')),
    rounds: Number(value('rounds') ?? 1),
  }).catch((err) => {
    console.error(`bench-chat: ${err?.stack ?? err}`);
    process.exit(1);
  });
}
