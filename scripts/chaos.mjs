#!/usr/bin/env node
/**
 * Chaos scenario (issue 20): an operator's bad day against three Hubbub instances on Redis and PostgreSQL, then a
 * check of every delivery promise of contract section 6. About two minutes; not run by CI:
 *   node scripts/chaos.mjs [--no-build]
 *
 * It owns everything it starts and stops each by PID: a redis-server on a spare port (so it can kill it), a TCP proxy
 * in front of it (a silent partition: nothing forwarded, connections kept) and one in front of PostgreSQL (a cut:
 * connections closed, new ones refused), a webhook receiver, and the three instances (NODE_ID chaos-0..2, their
 * outbox in a fresh PostgreSQL schema, dropped at the end). Load: 40 chat clients in 4 rooms (one message in flight
 * each, retried with its clientMsgId), 20 channel subscribers on 2 channels fed through the server API, 3 presence
 * observers (one per instance), and 500 sockets of their own users in 10 rooms.
 *
 * Faults, in order: kill -9 of an instance and its restart under the same NODE_ID; SIGSTOP of another past its
 * liveness TTL; a 5 s PostgreSQL cut; a 5 s silent Redis partition; Redis killed and restarted empty; the 500 sockets
 * dropped and reconnecting at once. Then, with the load stopped: every acknowledged message stored exactly once with
 * its seq, seqs gapless, no client missing a message after catch-up, no `recovered: true` with a gap, each
 * observer's member lists (built from pushes by `v`) equal to presence.list, and, once everyone is gone and the
 * outbox is drained, lifecycle webhooks alternating per key with no duplicate id. Prints figures; exits 1 when an
 * invariant failed. PostgreSQL: CHAOS_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 * CHAOS_DUMP=<dir>: writes there the instances' output, the phases and every webhook received (to study a failure).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import {
  ensureBuilt,
  freePort,
  hubbubArgv,
  sleep,
  startServer,
  stopServer,
} from './bench/harness.mjs';
import { ChatClient, CrowdMember, Observer, Subscriber } from './chaos/actors.mjs';
import { killProcess, signer, startRedis, tcpProxy, webhookReceiver } from './chaos/net.mjs';
import { checkChat, checkWebhooks } from './chaos/checks.mjs';

const HEARTBEAT_MS = 2000; // liveness TTL too
const INSTANCES = 3;
const CHAT_ROOMS = ['chaos-r0', 'chaos-r1', 'chaos-r2', 'chaos-r3'];
const CROWD_ROOMS = Array.from({ length: 10 }, (_, i) => `chaos-crowd-${i}`);
const CHANNELS = ['chaos-c0', 'chaos-c1'];
const API_KEY = randomBytes(16).toString('hex');
const SECRET = randomBytes(32).toString('hex');
const PG_URL =
  process.env.CHAOS_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const DUMP = process.env.CHAOS_DUMP;
if (DUMP) mkdirSync(DUMP, { recursive: true });
const phases = [];
const log = (line) => {
  console.log(`[${elapsed()}] ${line}`);
  phases.push({ at: Date.now(), line });
};
const schema = `hubbub_chaos_${randomBytes(4).toString('hex')}`;
const sql = async (text) => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
};

/** Lifecycle events an instance logged as not recorded (its outbox write failed: issue 20.2), by type. */
const unrecorded = {};
const owned = {
  redis: undefined,
  redisProxy: undefined,
  pgProxy: undefined,
  receiver: undefined,
  servers: [],
};
let env;

async function startInstance(i) {
  const server = await startServer({
    name: `chaos-${i}`,
    argv: hubbubArgv(),
    secret: SECRET,
    env: { ...env, NODE_ID: `chaos-${i}` },
  });
  owned.servers[i] = server;
  for (const stream of [server.child.stdout, server.child.stderr])
    stream.on('data', (chunk) => {
      for (const m of chunk.toString().matchAll(/"msg":"webhook ([a-z., ]+) not recorded/g))
        for (const type of m[1].split(', ')) unrecorded[type] = (unrecorded[type] ?? 0) + 1;
    });
  if (DUMP) {
    const file = join(DUMP, `chaos-${i}.log`);
    appendFileSync(file, `--- started ${new Date().toISOString()}\n`);
    for (const stream of [server.child.stdout, server.child.stderr])
      stream.on('data', (chunk) => appendFileSync(file, chunk));
  }
  return server;
}

const cluster = {
  size: INSTANCES,
  token: signer(SECRET),
  wsUrl: (i) => `ws://127.0.0.1:${owned.servers[i].port}/ws`,
  async api(path, init = {}) {
    for (let k = 0; k < INSTANCES; k++) {
      const s = owned.servers[(k + Math.floor(Math.random() * INSTANCES)) % INSTANCES];
      try {
        const res = await fetch(`http://127.0.0.1:${s.port}/api${path}`, {
          ...init,
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return res.status === 202 ? {} : await res.json();
      } catch {
        // that instance is down: the next one
      }
    }
    throw new Error(`${path}: no instance answered`);
  },
};

async function cleanup() {
  for (const s of owned.servers)
    if (s) await stopServer(s, { signal: 'SIGKILL' }).catch(() => undefined);
  await owned.redisProxy?.close();
  await owned.pgProxy?.close();
  await killProcess(owned.redis);
  await owned.receiver?.close();
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
}

const watchdog = setTimeout(async () => {
  console.error('chaos: over 5 minutes, giving up');
  await cleanup();
  process.exit(2);
}, 300_000);

async function main() {
  ensureBuilt({ noBuild: process.argv.includes('--no-build') });
  const redisPort = await freePort();
  owned.redis = await startRedis(redisPort);
  owned.redisProxy = await tcpProxy(redisPort);
  owned.pgProxy = await tcpProxy(Number(new URL(PG_URL).port || 5432));
  owned.receiver = await webhookReceiver();
  await sql(`CREATE SCHEMA "${schema}"`);
  const db = new URL(PG_URL);
  db.port = String(owned.pgProxy.port);
  db.searchParams.set('options', `-c search_path=${schema}`);
  env = {
    REDIS_URL: `redis://127.0.0.1:${owned.redisProxy.port}`,
    DATABASE_URL: db.toString(),
    HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    WEBHOOK_URL: owned.receiver.url,
    WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    API_KEY,
    MAX_CONNECTIONS_PER_USER: '10',
  };
  for (let i = 0; i < INSTANCES; i++) await startInstance(i);
  log(`3 instances up (redis ${redisPort}, schema ${schema})`);

  const chat = Array.from({ length: 40 }, (_, i) =>
    new ChatClient(cluster, `chat-${i}`, i % INSTANCES, CHAT_ROOMS[i % 4]).start(),
  );
  const subs = Array.from({ length: 20 }, (_, i) =>
    new Subscriber(cluster, `sub-${i}`, i % INSTANCES, CHANNELS[i % 2]).start(),
  );
  const observers = Array.from({ length: INSTANCES }, (_, i) =>
    new Observer(cluster, `observer-${i}`, i, [...CHAT_ROOMS, ...CROWD_ROOMS]).start(),
  );
  const crowd = Array.from(
    { length: 500 },
    (_, i) => new CrowdMember(cluster, `crowd-${i}`, i % INSTANCES, CROWD_ROOMS[i % 10]),
  );
  for (const c of crowd) c.start();
  const publisher = { n: 0, ok: 0, failed: 0, stop: false };
  const publishing = (async () => {
    while (!publisher.stop) {
      const channel = CHANNELS[publisher.n++ % 2];
      await cluster
        .api(`/channels/${channel}/publish`, {
          method: 'POST',
          body: JSON.stringify({ data: { n: publisher.n } }),
        })
        .then(
          () => publisher.ok++,
          () => publisher.failed++,
        );
      await sleep(50);
    }
  })();
  const crowdJoined = async (ms) => {
    const deadline = Date.now() + ms;
    while (crowd.some((c) => !c.joined) && Date.now() < deadline) await sleep(200);
    return crowd.filter((c) => c.joined).length;
  };
  log(`load started; crowd joined: ${await crowdJoined(30_000)}/500`);
  await sleep(6000);

  const phase = async (name, fault, settleMs) => {
    const before = chat.reduce((n, c) => n + c.acked.size, 0);
    const start = Date.now();
    await fault();
    await sleep(settleMs);
    log(
      `${name}: ${chat.reduce((n, c) => n + c.acked.size, 0) - before} messages acknowledged meanwhile (${((Date.now() - start) / 1000).toFixed(1)} s)`,
    );
  };
  log('phase 1');
  await phase(
    'kill -9 of chaos-2, restarted under the same NODE_ID',
    async () => {
      const victim = owned.servers[2];
      victim.child.kill('SIGKILL');
      await stopServer(victim, { signal: 'SIGKILL' });
      await sleep(1000);
      await startInstance(2);
    },
    6000,
  );
  await phase(
    `SIGSTOP of chaos-1 for ${(HEARTBEAT_MS * 1.75) / 1000} s (liveness TTL ${HEARTBEAT_MS / 1000} s)`,
    async () => {
      owned.servers[1].child.kill('SIGSTOP');
      await sleep(HEARTBEAT_MS * 1.75);
      owned.servers[1].child.kill('SIGCONT');
    },
    6000,
  );
  await phase(
    'PostgreSQL cut for 5 s',
    async () => {
      owned.pgProxy.cut();
      await sleep(5000);
      owned.pgProxy.restore();
    },
    6000,
  );
  await phase(
    'silent Redis partition for 5 s',
    async () => {
      owned.redisProxy.hold();
      await sleep(5000);
      owned.redisProxy.restore();
    },
    6000,
  );
  await phase(
    'Redis killed and restarted empty',
    async () => {
      await killProcess(owned.redis);
      await sleep(1000);
      owned.redis = await startRedis(redisPort);
    },
    7000,
  );
  await phase(
    '500 sockets dropped and reconnecting at once',
    async () => {
      for (const c of crowd) c.drop();
      log(`crowd joined again: ${await crowdJoined(30_000)}/500`);
    },
    4000,
  );

  // Quiet: no new sends or publications; what is in flight settles.
  publisher.stop = true;
  await publishing;
  await Promise.all(chat.map((c) => c.drain(15_000)));
  await sleep(3000);
  await Promise.all(chat.map((c) => c.finalCatchUp()));
  const results = [];
  const check = (name, ok, detail = '') => results.push({ name, ok, detail });

  const chatFigures = await checkChat(cluster, chat, CHAT_ROOMS, check);
  const violations = subs.flatMap((s) => s.violations);
  check(
    'channels: no recovered:true with a gap',
    violations.length === 0,
    violations.slice(0, 3).join('; '),
  );

  const mismatches = [];
  for (const o of observers)
    for (const room of [...CHAT_ROOMS, ...CROWD_ROOMS]) {
      const { members } = await cluster.api(`/rooms/${room}/presence`);
      const listed = members.map((m) => m.userId).sort();
      const seen = o.members(room);
      if (JSON.stringify(listed) !== JSON.stringify(seen))
        mismatches.push(
          `${o.user} ${room}: pushes say ${seen.length}, presence.list ${listed.length} (${diff(seen, listed)})`,
        );
    }
  check(
    'presence: each observer’s view (pushes by v) equals presence.list',
    mismatches.length === 0,
    mismatches.slice(0, 3).join('; '),
  );
  check(
    'presence: pushes of one (room, user) in v order on each socket',
    observers.every((o) => o.outOfOrder === 0),
    observers.map((o) => o.outOfOrder).join('/'),
  );

  // Everyone leaves; then every lifecycle event recorded must have been delivered once.
  await Promise.all([...chat, ...subs, ...observers, ...crowd].map((c) => c.stop()));
  const emptyBy = Date.now() + 20_000;
  let occupied = 0;
  do {
    occupied = 0;
    for (const room of [...CHAT_ROOMS, ...CROWD_ROOMS])
      occupied += (await cluster.api(`/rooms/${room}/presence`)).members.length;
    if (occupied > 0) await sleep(500);
  } while (occupied > 0 && Date.now() < emptyBy);
  check(
    'presence: every room empty once everyone left',
    occupied === 0,
    `${occupied} members left behind`,
  );
  const drainedBy = Date.now() + 30_000;
  let outbox = -1;
  do {
    outbox = Number((await sql(`SELECT count(*)::int AS n FROM "${schema}".webhook_outbox`))[0].n);
    if (outbox > 0) await sleep(500);
  } while (outbox > 0 && Date.now() < drainedBy);
  check('webhooks: outbox drained', outbox === 0, `${outbox} rows left`);
  const hookFigures = checkWebhooks(owned.receiver.bodies, check);
  if (DUMP) {
    writeFileSync(join(DUMP, 'webhooks.json'), JSON.stringify(owned.receiver.bodies));
    writeFileSync(join(DUMP, 'phases.json'), JSON.stringify(phases));
  }
  const crashed = owned.servers.filter((s) => s.exited).map((s) => s.name);
  check('no instance crashed', crashed.length === 0, crashed.join(', '));

  console.log('\nFigures');
  const figures = {
    'chat messages acknowledged': chatFigures.acked,
    'chat messages stored': chatFigures.stored,
    'chat sends retried (same clientMsgId)': chat.reduce((n, c) => n + c.retries, 0),
    'chat send errors by code': Object.fromEntries(
      chat
        .flatMap((c) => [...c.errors])
        .reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map()),
    ),
    'reconnects (chat / subscribers / observers / crowd)': [chat, subs, observers, crowd]
      .map((g) => g.reduce((n, c) => n + c.reconnects, 0))
      .join(' / '),
    'publications (ok / failed)': `${publisher.ok} / ${publisher.failed}`,
    'publications received live': subs.reduce((n, s) => n + s.live, 0),
    'live gaps (at most once)': subs.reduce((n, s) => n + s.liveGaps, 0),
    'resubscribes recovered true / false / new epoch': [
      subs.reduce((n, s) => n + s.recoveredTrue, 0),
      subs.reduce((n, s) => n + s.recoveredFalse, 0),
      subs.reduce((n, s) => n + s.epochChanges, 0),
    ].join(' / '),
    'presence pushes seen by observers': observers.reduce((n, o) => n + o.pushes, 0),
    'presence pushes dropped by the v rule': observers.reduce((n, o) => n + o.staleDropped, 0),
    ...hookFigures,
    'webhook events logged as not recorded (outbox write failed, issue 20.2)': unrecorded,
    duration: elapsed(),
  };
  for (const [k, v] of Object.entries(figures))
    console.log(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  console.log('\nInvariants');
  for (const r of results)
    console.log(
      `  ${r.ok ? 'held  ' : 'BROKEN'} ${r.name}${r.ok || !r.detail ? '' : ` — ${r.detail}`}`,
    );
  return results.every((r) => r.ok);
}

function diff(a, b) {
  const onlyA = a.filter((x) => !b.includes(x));
  const onlyB = b.filter((x) => !a.includes(x));
  return `only in pushes: ${onlyA.slice(0, 3).join(',') || '-'}; only in list: ${onlyB.slice(0, 3).join(',') || '-'}`;
}

let ok = false;
try {
  ok = await main();
} catch (err) {
  console.error(`chaos: ${err.stack ?? err}`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(ok ? 0 : 1);
