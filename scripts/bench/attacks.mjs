/**
 * The budgets scenario (issue 19): each attack a hostile logged-in user can mount, run from 10 sockets at the most
 * the server's limits allow, while a bystander on its own socket sends a `ping` every 60 ms (within its rate limit). Reported per attack:
 * the bystander's ping p50/p99/max (targets: p99 under 100 ms) and the server's RSS growth (target: under 150 MB),
 * besides what the attackers got (answers and refusals). A benchmark, not a test: it prints figures and exits 0.
 *
 *   node scripts/bench/attacks.mjs [--seconds=10] [--sockets=10] [--only=history,windows] [--no-build]
 *
 * The server runs from dist/ with production settings and the contract's default limits (rate limit included: it is
 * part of the defence). The attackers run in a child process of their own, so that their work does not delay the
 * bystander's measurements.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  ensureBuilt,
  hubbubArgv,
  markdownTable,
  readCpuSeconds,
  readRssKb,
  sleep,
  startServer,
  stopServer,
} from './harness.mjs';
import { BenchSocket, signToken } from './ws-client.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([^=]+)(?:=(.*))?$/.exec(a))
    .filter(Boolean)
    .map(([, k, v]) => [k, v ?? 'true']),
);
const SECONDS = Number(args.seconds ?? 10);
const SOCKETS = Number(args.sockets ?? 10);
const API_KEY = 'attacks-bench-api-key-0123456789abcdef';
const ROOM = 'attacked-room';
const BIG_TEXT = 'h'.repeat(4000);
const BIG_DATA = 'p'.repeat(60_000);

/**
 * Each attack: what one socket sends, and how often (ms between frames: the contract's default rate limit,
 * RATE_LIMIT_PER_SEC=20, or 4 a second for chat.history, which costs 5 tokens).
 */
const ATTACKS = {
  history: {
    what: 'chat.history {limit: 100} of a room of 100 × 4,000-character messages',
    everyMs: 250,
    frame: (n) => ({ event: 'chat.history', id: n, data: { room: ROOM, limit: 100 } }),
  },
  burst: {
    what: 'chat.history {limit: 100} of the same room, 39 at once every 2 s (a full bucket each time)',
    everyMs: 2000,
    burst: 39,
    frame: (n) => ({ event: 'chat.history', id: n, data: { room: ROOM, limit: 100 } }),
  },
  windows: {
    what: 'channel.publish of 60 KB to a fresh channel name each time',
    everyMs: 50,
    frame: (n, tag) => ({
      event: 'channel.publish',
      id: n,
      data: { channel: `w-${tag}-${n}`, data: BIG_DATA },
    }),
  },
  subscribes: {
    what: 'channel.subscribe with since to a fresh channel name, then unsubscribe',
    everyMs: 50,
    frame: (n, tag) =>
      n % 2
        ? { event: 'channel.unsubscribe', id: n, data: { channel: `s-${tag}-${n - 1}` } }
        : { event: 'channel.subscribe', id: n, data: { channel: `s-${tag}-${n}` } },
  },
  joins: {
    what: 'chat.join then chat.leave of an empty room, over and over',
    everyMs: 50,
    frame: (n, tag) =>
      n % 2
        ? { event: 'chat.leave', id: n, data: { room: `j-${tag}` } }
        : { event: 'chat.join', id: n, data: { room: `j-${tag}` } },
  },
  keys: {
    what: 'GET /api/stats with a wrong API key (HTTP, 10 requests in flight)',
    http: true,
  },
};

if (args.attacker) await attacker(args);
else await main();

// ───────────────────────────── the attackers' process ─────────────────────────────

async function attacker({ attacker: kind, port, secret }) {
  const attack = ATTACKS[kind];
  const counts = { sent: 0, answered: 0, refused: {}, closed: 0 };
  const until = Date.now() + SECONDS * 1000;
  if (attack.http) {
    await Promise.all(
      Array.from({ length: SOCKETS }, async () => {
        while (Date.now() < until) {
          const res = await fetch(`http://127.0.0.1:${port}/api/stats`, {
            headers: { authorization: `Bearer wrong-${randomBytes(4).toString('hex')}` },
          });
          await res.arrayBuffer();
          counts.sent++;
          if (res.status === 401) counts.answered++;
          else counts.refused[res.status] = (counts.refused[res.status] ?? 0) + 1;
        }
      }),
    );
    return process.send(counts);
  }
  const token = signToken(secret, { sub: `attacker-${kind}`, publish: ['*'] });
  const sockets = await Promise.all(
    Array.from({ length: SOCKETS }, () => BenchSocket.open(Number(port), token)),
  );
  await Promise.all(
    sockets.map(async (socket, s) => {
      // Replies are counted from their first bytes, not parsed: the attacker must stay cheap.
      const errorMark = Buffer.from('{"event":"error"');
      socket.onText = (buf, start, end) => {
        if (buf.compare(errorMark, 0, errorMark.length, start, start + errorMark.length) !== 0) {
          counts.answered++;
          return;
        }
        const code = /"code":"([a-z_]+)"/.exec(
          buf.toString('utf8', start, Math.min(end, start + 80)),
        );
        const key = code?.[1] ?? 'error';
        counts.refused[key] = (counts.refused[key] ?? 0) + 1;
      };
      socket.socket.on('close', () => counts.closed++);
      const tag = `${s}-${randomBytes(3).toString('hex')}`;
      for (let n = 0; Date.now() < until && !socket.socket.destroyed;) {
        for (let b = 0; b < (attack.burst ?? 1); b++, n++) {
          socket.sendText(JSON.stringify(attack.frame(n, tag)));
          counts.sent++;
        }
        await sleep(attack.everyMs);
      }
    }),
  );
  await sleep(500); // the last answers
  process.send(counts);
  for (const socket of sockets) socket.close();
}

// ───────────────────────────── the orchestrator ─────────────────────────────

async function main() {
  ensureBuilt({ noBuild: args['no-build'] === 'true' });
  const secret = randomBytes(32).toString('hex');
  const kinds = args.only ? args.only.split(',') : ['none', ...Object.keys(ATTACKS)];
  const rows = [
    [
      'attack',
      'ping p50 ms',
      'ping p99 ms',
      'ping max ms',
      'RSS growth MB',
      'server CPU s',
      'attackers got',
    ],
  ];
  for (const kind of kinds) {
    // A fresh server per attack, so that one attack's leftovers do not count against the next.
    const server = await startServer({
      name: 'hubbub',
      argv: hubbubArgv(),
      secret,
      env: { API_KEY, RATE_LIMIT_PER_SEC: '20', RATE_LIMIT_BURST: '40' },
    });
    try {
      await seed(server.port);
      const row = await measure(kind, server, secret);
      rows.push(row);
      console.log(row.join('  '));
    } finally {
      await stopServer(server);
    }
  }
  console.log(`\n${SOCKETS} sockets per attack, ${SECONDS} s each; bystander pings every 60 ms.\n`);
  console.log(markdownTable(rows));
}

/** The room the history attack reads: 100 messages of 4,000 characters. */
async function seed(port) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/api/rooms/${ROOM}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'seeder', text: BIG_TEXT }),
    });
    if (res.status !== 201) throw new Error(`seeding answered ${res.status}`);
  }
}

async function measure(kind, server, secret) {
  const bystander = await BenchSocket.open(server.port, signToken(secret, { sub: 'bystander' }));
  await bystander.request('ping');
  const rssBefore = readRssKb(server.pid);
  const cpuBefore = readCpuSeconds(server.pid);
  const child =
    kind === 'none'
      ? undefined
      : fork(fileURLToPath(import.meta.url), [
          `--attacker=${kind}`,
          `--port=${server.port}`,
          `--secret=${secret}`,
          `--seconds=${SECONDS}`,
          `--sockets=${SOCKETS}`,
        ]);
  const report = child ? new Promise((resolve) => child.once('message', resolve)) : undefined;
  const latencies = [];
  let rssPeak = rssBefore;
  const until = Date.now() + SECONDS * 1000;
  while (Date.now() < until) {
    const t0 = performance.now();
    await bystander.request('ping');
    latencies.push(performance.now() - t0);
    rssPeak = Math.max(rssPeak, readRssKb(server.pid));
    await sleep(60); // 16 a second: within its own rate limit
  }
  const counts = report ? await report : undefined;
  rssPeak = Math.max(rssPeak, readRssKb(server.pid));
  const cpu = readCpuSeconds(server.pid) - cpuBefore;
  bystander.close();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const got = counts
    ? `${counts.answered} answered, ${
        Object.entries(counts.refused)
          .map(([code, n]) => `${n} ${code}`)
          .join(', ') || 'none refused'
      }${counts.closed ? `, ${counts.closed} closed` : ''}`
    : '(no attack: baseline)';
  return [
    kind,
    at(0.5).toFixed(1),
    at(0.99).toFixed(1),
    latencies[latencies.length - 1].toFixed(1),
    ((rssPeak - rssBefore) / 1024).toFixed(0),
    cpu.toFixed(1),
    got,
  ];
}
