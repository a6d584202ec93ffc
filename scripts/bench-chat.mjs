#!/usr/bin/env node
/**
 * Chat store comparison, run by `npm run bench` (phase `chat-stores`) or alone:
 *   node scripts/bench-chat.mjs [--quick] [--seconds=N] [--rounds=N]
 *
 * The same Hubbub build is started twice, as scripts/bench/run.mjs starts it (scripts/bench/harness.mjs: the Node
 * flags of `npm run start:prod`, production settings), once on SQLite (a file in a temp dir, WAL, synchronous=FULL)
 * and once on PostgreSQL (DATABASE_URL, its own fresh schema, dropped afterwards), and driven through two scenarios,
 * each with 50 senders keeping one `chat.send` in flight:
 *   - one room:  all 50 senders in one room (every message is also pushed to the 49 others);
 *   - spread:    50 senders over 500 rooms, each sender in 10 rooms of its own, sending to them in turn.
 * For each: acks/s, and p50 / p99 of the ack latency (send → reply, i.e. → durable commit), after a 1 s warm-up.
 * Then the PostgreSQL / SQLite ratios against the target (acks/s ≥ 0.8×, p99 < 2×).
 *
 * Everything runs on 127.0.0.1. PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test; when it does not answer, the PostgreSQL half is skipped with one line.
 * The load client is a forked copy of this script (`--load-client`), so the server keeps a core of its own.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import {
  hubbubArgv,
  markdownTable,
  serveCommands,
  startLoadClient,
  startServer,
  stopServer,
  withCpu,
} from './bench/harness.mjs';
import { signToken } from './bench/ws-client.mjs';

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
  const servers = { sqlite: await startHubbub(secret) };
  const client = startLoadClient(fileURLToPath(import.meta.url), ['--load-client']);
  const runs = {};
  try {
    if (db) servers.postgres = await startHubbub(secret, db.url);
    for (let round = 0; round < rounds; round++) {
      for (const scenario of SCENARIOS) {
        for (const [backend, server] of Object.entries(servers)) {
          const r = await withCpu(server, client, () =>
            client.call('run', { port: server.port, secret, scenario, seconds: measureSeconds }),
          );
          ((runs[backend] ??= {})[scenario.name] ??= []).push(r);
          console.log(
            `[chat ${backend}] ${scenario.label}: ${fmtInt(r.perSec)} acks/s, p50 ${r.p50.toFixed(1)} ms, ` +
              `p99 ${r.p99.toFixed(1)} ms (CPU: Hubbub ${pct(r.cpu.server)}, whole machine ${pct(r.cpu.machine)} ` +
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

/** Hubbub on SQLite (a file in its temp dir) or, with `databaseUrl`, on PostgreSQL; ready once /health/ready is. */
function startHubbub(secret, databaseUrl) {
  return startServer({
    name: `Hubbub (${databaseUrl ? 'PostgreSQL' : 'SQLite'})`,
    argv: hubbubArgv(),
    secret,
    env: databaseUrl ? { DATABASE_URL: databaseUrl } : {},
    health: '/health/ready',
  });
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
  return markdownTable(rows);
}

const fmtInt = (n) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n) => (n === undefined ? 'n/a' : n.toFixed(1));
const fmtRatio = (x) => (x === undefined ? 'n/a' : `${x.toFixed(2)}×`);
const redact = (url) => url.replace(/\/\/[^@/]*@/, '//…@');

// ───────────────────────────────────────────── load client ─────────────────────────────────────────────

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

// ─────────────────────────────────────────────── entry ───────────────────────────────────────────────

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === '--load-client') {
  serveCommands({ run: runScenario });
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
