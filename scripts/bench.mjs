#!/usr/bin/env node
/**
 * `npm run bench` (second half, after scripts/bench/run.mjs): Hubbub's durable chat. Everything runs on 127.0.0.1
 * and is bounded in time.
 *
 * Phases:
 *   chat         50 senders (own users) in 10 rooms, each keeping one `chat.send` in flight for 5 s, SQLite store
 *                (WAL, synchronous=FULL: an ack is a durable commit); acks/s, p50/p99 of the ack latency, and the
 *                CPU of the server, of the load client and of everything else.
 *   chat-stores  scripts/bench-chat.mjs: 50 senders in one room and over 500 rooms, on SQLite and on PostgreSQL
 *                (skipped with a line when it does not answer); acks/s, p50/p99, PostgreSQL ÷ SQLite.
 *   chat-search  scripts/bench-search.mjs: `chat.search` p50/p99 on a room of 100,000 messages, SQLite and
 *                PostgreSQL (target p99 < 20 ms).
 * Hubbub is started as scripts/bench/run.mjs starts it (scripts/bench/harness.mjs: `npm run start:prod`'s Node
 * flags, production settings, SQLite in a temp dir); the load client is scripts/bench/load-client.mjs. Fan-out,
 * memory, connects/s and CPU per request, beside other servers, are scripts/bench/run.mjs's.
 *
 * Flags (`node scripts/bench.mjs <flags>`):
 *   --phases=chat,chat-stores,chat-search  which phases to run (default all)
 *   --quick                    2 s runs instead of 5 s, for trying the script
 *   --build / --no-build       always build / never build (by default: when dist/ is older than src/)
 *   --help                     this text
 */
import { readFileSync } from 'node:fs';
import { arch, cpus, platform, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PROD_NODE_FLAGS,
  ensureBuilt,
  hubbubArgv,
  markdownTable,
  startLoadClient,
  startServer,
  stopServer,
  withCpu,
} from './bench/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PHASES = ['chat', 'chat-stores', 'chat-search'];
const CHAT = { senders: 50, rooms: 10, seconds: 5 };

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) return console.log(usage());
  ensureBuilt(flags);
  console.log(`${machine()}\n`);
  if (flags.phases.includes('chat')) {
    const chat = await chatPhase({ ...CHAT, seconds: flags.quick ? 2 : CHAT.seconds });
    console.log(`\n${chatTable(chat)}`);
  }
  if (flags.phases.includes('chat-stores')) {
    // 50 senders in one room and over 500 rooms, SQLite against PostgreSQL: scripts/bench-chat.mjs.
    console.log('\nChat stores: SQLite and PostgreSQL');
    const { runChatStores } = await import('./bench-chat.mjs');
    await runChatStores({ quick: flags.quick });
  }
  if (flags.phases.includes('chat-search')) {
    console.log('\nChat search: a room of 100,000 messages, SQLite and PostgreSQL');
    const { runChatSearch } = await import('./bench-search.mjs');
    await runChatSearch({ quick: flags.quick });
  }
}

function parseFlags(argv) {
  const unknown = argv.filter((a) => !/^--(build|no-build|quick|help|phases=.*)$/.test(a));
  if (unknown.length > 0) throw new Error(`unknown flag(s): ${unknown.join(' ')} (see --help)`);
  // The last --phases wins: `npm run bench -- --phases=chat` comes after the script's own --phases=chat,chat-stores.
  const phases =
    argv
      .findLast((a) => a.startsWith('--phases='))
      ?.slice(9)
      .split(',') ?? PHASES;
  const gone = phases.filter((p) => !PHASES.includes(p));
  if (gone.length > 0)
    throw new Error(
      `unknown phase(s): ${gone.join(',')}; this script runs ${PHASES.join(', ')} ` +
        '(fan-out and memory are measured by scripts/bench/run.mjs)',
    );
  return {
    build: argv.includes('--build'),
    noBuild: argv.includes('--no-build'),
    quick: argv.includes('--quick'),
    help: argv.includes('--help'),
    phases,
  };
}

/** The header comment of this file, from "Phases:" on. */
function usage() {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const header = text.slice(text.indexOf('/**'), text.indexOf('*/'));
  return header
    .slice(header.indexOf(' * Phases:'))
    .split('\n')
    .map((line) => line.replace(/^ \* ?/, ''))
    .join('\n')
    .trimEnd();
}

function machine() {
  const cpu = cpus();
  const fs = filesystemOf(tmpdir());
  // Chat acks wait for an fsync: on tmpfs that costs nothing and the chat figure would flatter the store.
  const warning =
    fs === 'tmpfs' ? ' — WARNING: tmpfs, fsync is free, chat figures are optimistic' : '';
  return (
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${platform()} ${arch()}, ` +
    `Node ${process.version}; SQLite files in ${tmpdir()} (${fs})${warning}\n` +
    `Hubbub: node ${[...PROD_NODE_FLAGS, 'dist/main.js'].join(' ')}`
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

/** One Hubbub process on SQLite and the load client: `senders` users in `rooms` rooms, one chat.send in flight each. */
async function chatPhase(sizes) {
  const secret = randomBytes(32).toString('base64url');
  const server = await startServer({ name: 'Hubbub', argv: hubbubArgv(), secret });
  const client = startLoadClient(join(HERE, 'bench', 'load-client.mjs'));
  try {
    await client.call('init', { dialect: 'hubbub', port: server.port, secret });
    const run = await withCpu(server, client, () => client.call('chat', sizes));
    console.log(`[Hubbub] chat: ${fmtInt(run.perSec)} acks/s (CPU ${fmtCpu(run)})`);
    if (run.cpu.others > 0.15)
      console.log(
        `[Hubbub] WARNING: other processes used ${pct(run.cpu.others)} of a core meanwhile; this figure is unreliable`,
      );
    return { ...run, sizes };
  } catch (err) {
    console.error(`[Hubbub] server output:\n${server.output.slice(-15).join('\n')}`);
    throw err;
  } finally {
    await client.stop();
    await stopServer(server);
  }
}

function chatTable(c) {
  const { senders, rooms } = c.sizes;
  return markdownTable([
    ['scenario', 'metric', 'Hubbub'],
    [
      `chat.send: ${senders} senders, ${rooms} rooms, 1 in flight each, SQLite`,
      'acks/s',
      fmtInt(c.perSec),
    ],
    ['', 'ack latency p50 / p99 (ms)', `${c.p50.toFixed(1)} / ${c.p99.toFixed(1)}`],
    ['', 'CPU: server / load client / others', fmtCpu(c)],
  ]);
}

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (x) => `${Math.round(x * 100)}%`;
const fmtCpu = (r) => `${pct(r.cpu.server)} / ${pct(r.cpu.client)} / ${pct(r.cpu.others)}`;

main().catch((err) => {
  console.error(`bench: ${err?.message ?? err}`);
  process.exit(1);
});
