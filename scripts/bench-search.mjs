#!/usr/bin/env node
/**
 * Chat search latency, run by `npm run bench` (phase `chat-search`) or alone:
 *   node scripts/bench-search.mjs [--quick] [--messages=N]
 *
 * One Hubbub build started as scripts/bench/run.mjs starts it (scripts/bench/harness.mjs: the Node flags of
 * `npm run start:prod`, production settings), on SQLite and on PostgreSQL (its own schema, dropped afterwards;
 * skipped with one line when it does not answer). Each store gets one room of 100,000 messages (20,000 with
 * --quick), written straight into the database after the server migrated it (with the SQLite full-text row the store writes
 * for each message; the PostgreSQL tsvector is a generated column), then
 * `ANALYZE` (PostgreSQL). Then one client sends `chat.search` requests one at a time, the query kinds in turn:
 *   every    a word in every message (the newest 20 of 100,000 matches)
 *   half     a word in every other message
 *   two      two words, 1% of the messages
 *   rare     a word in 100 messages; `scarce` a word in 10
 *   disjoint two words each in many messages, never together (0 matches: the index intersection's worst case)
 *   absent   a word in no message
 *   paged    `half` with `before` in the middle of the room
 * and reports p50 / p99 of the reply latency (request → reply over the socket) per store, overall and for the
 * slowest kind, against the target p99 < 20 ms.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { hubbubArgv, markdownTable, startServer, stopServer } from './bench/harness.mjs';
import { signToken } from './bench/ws-client.mjs';

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const ROOM = 'search-bench';
const TARGET_P99_MS = 20;

/** The text of message i: words with known frequencies (see QUERIES). */
const textOf = (i) =>
  `message ${i} about alpha${i % 2} beta${i % 10} gamma${i % 100} delta${i % 1000} eps${i % 10000} for the team`;
const TEXT_SQL = `format('message %s about alpha%s beta%s gamma%s delta%s eps%s for the team',
  i, i % 2, i % 10, i % 100, i % 1000, i % 10000)`;

const QUERIES = (n) => [
  { kind: 'every', q: 'team' },
  { kind: 'half', q: 'alpha0' },
  { kind: 'two', q: 'gamma13 beta3' },
  { kind: 'rare', q: 'delta123' },
  { kind: 'scarce', q: 'eps4321' },
  { kind: 'disjoint', q: 'alpha0 beta3' },
  { kind: 'absent', q: 'nothinglikethis' },
  { kind: 'paged', q: 'alpha1', before: Math.floor(n / 2) },
];

export async function runChatSearch({ quick = false, messages } = {}) {
  const n = messages ?? (quick ? 20_000 : 100_000);
  const rounds = quick ? 20 : 100;
  const secret = randomBytes(32).toString('base64url');
  const rows = [];
  const stores = [['SQLite', undefined]];
  const db = await createSchema();
  if (db) stores.push(['PostgreSQL', db]);
  try {
    for (const [store, database] of stores) {
      const server = await startServer({
        name: `hubbub-${store}`,
        argv: hubbubArgv(),
        secret,
        env: database ? { DATABASE_URL: database.url } : {},
      });
      try {
        const t0 = performance.now();
        if (database) await fillPostgres(database, n);
        else fillSqlite(join(server.cwd, 'hubbub.db'), n);
        const fillSec = (performance.now() - t0) / 1000;
        const r = await measure(server.port, secret, QUERIES(n), rounds);
        const worst = Object.entries(r.byKind).sort((a, b) => b[1].p99 - a[1].p99)[0];
        console.log(
          `[search ${store}] ${fmtInt(n)} messages (written in ${fillSec.toFixed(1)} s), ${r.count} searches: ` +
            `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms; slowest kind ${worst[0]} p99 ` +
            `${worst[1].p99.toFixed(2)} ms; ` +
            Object.entries(r.byKind)
              .map(([k, v]) => `${k} ${v.p99.toFixed(1)}`)
              .join(', '),
        );
        rows.push([
          store,
          fmtInt(n),
          r.p50.toFixed(2),
          r.p99.toFixed(2),
          `${worst[0]} ${worst[1].p99.toFixed(2)}`,
          r.p99 < TARGET_P99_MS && worst[1].p99 < TARGET_P99_MS ? 'yes' : 'NO',
        ]);
      } finally {
        await stopServer(server);
      }
    }
  } finally {
    await db?.drop();
  }
  console.log(
    `\n${markdownTable([
      ['store', 'messages', 'p50 ms', 'p99 ms', 'slowest kind, p99 ms', `p99 < ${TARGET_P99_MS} ms`],
      ...rows,
    ])}\n(one client, one search in flight, ${cpus().length} cores shared by server and client)`,
  );
}

/** The room's messages, straight into the SQLite file the server opened (WAL: the server reads them at once). */
function fillSqlite(path, n) {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    const insert = db.prepare(
      'INSERT INTO messages (id, room, seq, user_id, text, ts) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // The search index row, as the store writes it for each new message (SQLITE_INDEX_MESSAGE).
    const index = db.prepare('INSERT INTO messages_fts (rowid, r, body) VALUES (?, hex(?), ?)');
    const ts = Date.now();
    for (let i = 1; i <= n; i++) {
      const { lastInsertRowid } = insert.run(randomUUID(), ROOM, i, `u${i % 50}`, textOf(i), ts);
      index.run(lastInsertRowid, ROOM, textOf(i));
    }
    db.prepare('INSERT INTO rooms (room, last_seq) VALUES (?, ?)').run(ROOM, n);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

async function fillPostgres(database, n) {
  await database.sql(
    `INSERT INTO messages (id, room, seq, user_id, text, ts)
       SELECT gen_random_uuid(), '${ROOM}', i, 'u' || (i % 50), ${TEXT_SQL}, ${Date.now()}
       FROM generate_series(1, ${n}) AS i;
     INSERT INTO rooms (room, last_seq) VALUES ('${ROOM}', ${n});
     ANALYZE messages;`,
  );
}

/** `rounds` passes over the queries (after one warm-up pass), one request in flight. */
async function measure(port, secret, queries, rounds) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
    headers: {
      authorization: `Bearer ${signToken(secret, { sub: 'searcher' })}`,
      origin: 'http://localhost',
    },
  });
  const pending = new Map();
  let nextId = 1;
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString());
    pending.get(frame.id)?.(frame);
    pending.delete(frame.id);
  });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const search = (data) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (frame) =>
        frame.event === 'error' ? reject(new Error(JSON.stringify(frame.data))) : resolve(frame),
      );
      ws.send(JSON.stringify({ event: 'chat.search', data: { room: ROOM, ...data }, id }));
    });
  const samples = {};
  for (let round = -1; round < rounds; round++) {
    for (const { kind, q, before } of queries) {
      const t0 = performance.now();
      await search(before === undefined ? { q } : { q, before });
      if (round >= 0) (samples[kind] ??= []).push(performance.now() - t0);
    }
  }
  ws.close();
  const all = Object.values(samples).flat();
  const byKind = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [k, { p50: pct(v, 0.5), p99: pct(v, 0.99) }]),
  );
  return { count: all.length, p50: pct(all, 0.5), p99: pct(all, 0.99), byKind };
}

function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function createSchema() {
  const schema = `hubbub_bench_${randomBytes(4).toString('hex')}`;
  const sql = async (text, url = DATABASE_URL) => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
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
    console.log(`[search PostgreSQL] skipped: PostgreSQL does not answer (${e.message})`);
    return undefined;
  }
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    sql: (text) => sql(text, url.toString()),
    drop: () => sql(`DROP SCHEMA "${schema}" CASCADE`),
  };
}

const fmtInt = (x) => Math.round(x).toLocaleString('en-US');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const messages = argv.find((a) => a.startsWith('--messages='))?.slice(11);
  runChatSearch({
    quick: argv.includes('--quick'),
    messages: messages ? Number(messages) : undefined,
  }).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
