/**
 * `npm run bench`, phase `redis-cluster` (called by run.mjs; `--skip=redis-cluster` leaves it out): channel fan-out
 * across 3 Hubbub instances on one Redis, then the same on a Redis Cluster of 3 masters and 3 replicas
 * (REDIS_CLUSTER_NODES, 64 partitions), each Redis a process of the bench's own (spare ports, temp dirs, stopped by
 * PID). Load: `subscribers` connections per instance, each subscribed to every one of `channels` channels; `publishers`
 * connections per instance, each keeping one `channel.publish` in flight, channels in turn, for `seconds`. Figures:
 * publishes/s, deliveries/s, and the CPU seconds each Redis process spent (utime + stime from /proc/<pid>/stat), in
 * total and per 1000 publishes: one Redis does all of the routing, history and fan-out work; on the cluster each
 * master does a third of it (the partitions' hash tags spread them over the masters) instead of repeating it, as a
 * cluster PUBLISH would (every node gets every message).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, markdownTable, readCpuSeconds, sleep, stopServer } from './harness.mjs';
import { BenchSocket, DIALECTS, signToken } from './ws-client.mjs';

const run = promisify(execFile);
const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';

/** A redis-server on a spare port with its own dir, writing nothing to disk; resolves once it accepts connections. */
async function startRedis(dir, extra = []) {
  const port = await freePort();
  const own = join(dir, String(port));
  mkdirSync(own);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', own, '--save', '', '--appendonly', 'no'];
  const proc = spawn(REDIS_SERVER, [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (c) => {
      out += c;
      if (out.includes('Ready to accept connections')) resolve();
    });
    proc.once('exit', () => reject(new Error(`redis-server exited: ${out}`)));
  });
  proc.stdout.resume();
  return { port, proc, pid: proc.pid };
}

async function stopRedis(nodes) {
  for (const n of nodes) {
    if (n.proc.exitCode !== null) continue;
    const gone = new Promise((resolve) => n.proc.once('exit', resolve));
    n.proc.kill('SIGKILL');
    await gone;
  }
}

/** 6 cluster-enabled redis-servers joined by `redis-cli --cluster create … --cluster-replicas 1`, until state ok. */
async function startCluster(dir) {
  const nodes = [];
  for (let i = 0; i < 6; i++) {
    const bus = await freePort();
    nodes.push(
      await startRedis(dir, ['--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-node-timeout', '2000']),
    );
  }
  const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run(REDIS_CLI, ['--cluster', 'create', ...seeds, '--cluster-replicas', '1', '--cluster-yes']);
  for (const n of nodes) {
    for (;;) {
      const { stdout } = await run(REDIS_CLI, ['-p', String(n.port), 'cluster', 'info']);
      const { stdout: repl } = await run(REDIS_CLI, ['-p', String(n.port), 'info', 'replication']);
      n.master = repl.includes('role:master');
      if (stdout.includes('cluster_state:ok') && (n.master || repl.includes('master_link_status:up'))) break;
      await sleep(100);
    }
  }
  return { nodes, seeds: seeds.join(',') };
}

/** Counts channel.message pushes on a socket without parsing them; everything else as in setup mode. */
function countPushes(ws, counter) {
  const prefix = DIALECTS.hubbub.pushPrefix;
  ws.onText = (buf, start, end) => {
    if (end - start > prefix.length && buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0)
      counter.n++;
    else ws.onJson(buf, start, end);
  };
}

/** One mode: 3 instances on `redisEnv`, the load, and the CPU of every Redis process in `redisNodes`. */
async function fanout({ label, redisEnv, redisNodes, startHubbub, secret, sizes }) {
  const instances = [];
  const sockets = [];
  try {
    for (let i = 0; i < 3; i++) instances.push(await startHubbub({ ...redisEnv, MAX_SUBSCRIPTIONS: '1000' }));
    const channels = Array.from({ length: sizes.channels }, (_, i) => `bench.rc-${label}-${i}`);
    const received = { n: 0 };
    for (const [i, server] of instances.entries()) {
      for (let s = 0; s < sizes.subscribers; s++) {
        const ws = await BenchSocket.open(server.port, signToken(secret, { sub: `sub-${i}-${s}` }));
        sockets.push(ws);
        for (const channel of channels) await ws.request('channel.subscribe', { channel });
        countPushes(ws, received);
      }
    }
    const publishers = [];
    for (const [i, server] of instances.entries()) {
      for (let p = 0; p < sizes.publishers; p++) {
        const ws = await BenchSocket.open(
          server.port,
          signToken(secret, { sub: `pub-${i}-${p}`, publish: ['bench.*'] }),
        );
        sockets.push(ws);
        publishers.push(ws);
      }
    }
    const loop = async (ws, k, until, count) => {
      for (let n = k; Date.now() < until; n++) {
        await ws.request('channel.publish', { channel: channels[n % channels.length], data: { n } });
        count.n++;
      }
    };
    // Warm-up: every script loaded, every route written.
    await Promise.all(publishers.map((ws, k) => loop(ws, k, Date.now() + 1000, { n: 0 })));
    await sleep(200);
    // Idle for as long: what each Redis spends without publishes (probes, liveness, cluster bus, slot-map refreshes).
    const idle0 = redisNodes.map((n) => readCpuSeconds(n.pid));
    await sleep(sizes.seconds * 1000);
    const idle = redisNodes.map((n, i) => readCpuSeconds(n.pid) - idle0[i]);
    for (const n of redisNodes) await run(REDIS_CLI, ['-p', String(n.port), 'config', 'resetstat']);
    const cpu0 = redisNodes.map((n) => readCpuSeconds(n.pid));
    const [published, delivered0, t0] = [{ n: 0 }, received.n, performance.now()];
    const until = Date.now() + sizes.seconds * 1000;
    await Promise.all(publishers.map((ws, k) => loop(ws, k, until, published)));
    await sleep(200); // the last pushes in flight
    const wall = (performance.now() - t0) / 1000;
    const cpu = redisNodes.map((n, i) => readCpuSeconds(n.pid) - cpu0[i]);
    // Where the masters' time went, by command (INFO commandstats, µs inside the commands only).
    const commands = {};
    for (const n of redisNodes.filter((x) => x.role !== 'replica')) {
      const { stdout } = await run(REDIS_CLI, ['-p', String(n.port), 'info', 'commandstats']);
      for (const [, name, usec] of stdout.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm))
        commands[name] = (commands[name] ?? 0) + Number(usec);
    }
    return {
      label,
      publishesPerSec: published.n / wall,
      deliveriesPerSec: (received.n - delivered0) / wall,
      expected: published.n * sizes.subscribers * 3,
      delivered: received.n - delivered0,
      published: published.n,
      redis: redisNodes.map((n, i) => ({ role: n.role, cpu: cpu[i], idle: idle[i] })),
      commands,
    };
  } finally {
    for (const ws of sockets) ws.close();
    for (const server of instances) await stopServer(server);
  }
}

export async function redisClusterPhase({ startHubbub, secret, databaseUrl, quick }) {
  const sizes = quick
    ? { channels: 64, subscribers: 4, publishers: 4, seconds: 2 }
    : { channels: 64, subscribers: 10, publishers: 8, seconds: 5 };
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-bench-redis-'));
  const results = [];
  try {
    const one = await startRedis(dir);
    one.role = 'single';
    try {
      results.push(
        await fanout({
          label: 'one',
          redisEnv: { REDIS_URL: `redis://127.0.0.1:${one.port}`, DATABASE_URL: databaseUrl },
          redisNodes: [one],
          startHubbub,
          secret,
          sizes,
        }),
      );
    } finally {
      await stopRedis([one]);
    }
    const cluster = await startCluster(dir);
    for (const n of cluster.nodes) n.role = n.master ? 'master' : 'replica';
    try {
      results.push(
        await fanout({
          label: 'cluster',
          redisEnv: { REDIS_CLUSTER_NODES: cluster.seeds, DATABASE_URL: databaseUrl },
          redisNodes: cluster.nodes,
          startHubbub,
          secret,
          sizes,
        }),
      );
    } finally {
      await stopRedis(cluster.nodes);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { sizes, results };
}

/** The phase's table: per mode, throughput, and each Redis process's CPU in total and per 1000 publishes. */
export function redisClusterTable({ sizes, results }) {
  // CPU the publishes cost: the loaded window minus an idle one as long, per 1000 publishes.
  const per1k = (x, r) => (((x.cpu - x.idle) / r.published) * 1000).toFixed(3);
  const rows = results.map((r) => {
    const masters = r.redis.filter((x) => x.role !== 'replica');
    const replicas = r.redis.filter((x) => x.role === 'replica');
    const total = r.redis.reduce((s, x) => ({ cpu: s.cpu + x.cpu, idle: s.idle + x.idle }), {
      cpu: 0,
      idle: 0,
    });
    return [
      r.label === 'one' ? 'one Redis' : 'Redis Cluster, 3 masters + 3 replicas',
      Math.round(r.publishesPerSec).toLocaleString('en'),
      Math.round(r.deliveriesPerSec).toLocaleString('en'),
      `${r.delivered === r.expected ? 'all' : `${r.delivered}/${r.expected}`}`,
      masters.map((x) => `${x.cpu.toFixed(2)} (${per1k(x, r)})`).join(' · '),
      replicas.length ? replicas.map((x) => `${x.cpu.toFixed(2)} (${per1k(x, r)})`).join(' · ') : '—',
      `${total.cpu.toFixed(2)} (${per1k(total, r)})`,
    ];
  });
  const top = (r) =>
    Object.entries(r.commands)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([name, usec]) => `${name} ${((usec / r.published) * 1000 / 1e6).toFixed(3)}`)
      .join(', ');
  const inside = results
    .map((r) => `${r.label === 'one' ? 'one Redis' : 'cluster masters'}: ${top(r)}`)
    .join('; ');
  return (
    `Redis Cluster fan-out: 3 instances, ${sizes.channels} channels, ${sizes.subscribers * 3} subscribers on each ` +
    `channel (${sizes.subscribers} per instance), ${sizes.publishers * 3} publishers with one publish in flight, ` +
    `${sizes.seconds} s. CPU: seconds in the window, and (in brackets) minus an idle window as long, per 1000 ` +
    `publishes\n` +
    markdownTable([
      [
        'Redis',
        'publishes/s',
        'deliveries/s',
        'delivered',
        'CPU s of each master (net per 1000 publishes)',
        'CPU s of each replica (net per 1000)',
        'all Redis processes (net per 1000)',
      ],
      ...rows,
    ]) +
    `\nCPU s inside commands per 1000 publishes (INFO commandstats, all masters): ${inside}`
  );
}
