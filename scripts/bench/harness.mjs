/**
 * What the bench orchestrators share (scripts/bench/run.mjs, scripts/bench.mjs, scripts/bench-chat.mjs): how Hubbub
 * is built and started, server and load-client child processes, CPU time and RSS from /proc, a Markdown table.
 * (scripts/bench/common.mjs is the other side: what the comparison servers share.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST_MAIN = join(ROOT, 'dist', 'main.js');

/**
 * Hubbub runs as production runs it: with the Node flags of `npm run start:prod` (`node <flags> dist/main.js`,
 * the command docs/deployment.md gives). HUBBUB_NODE_FLAGS overrides them, to measure another setting.
 */
export const PROD_NODE_FLAGS =
  process.env.HUBBUB_NODE_FLAGS?.split(/\s+/).filter(Boolean) ??
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    ['scripts']['start:prod'].split(/\s+/)
    .filter((word) => word.startsWith('--'));

/** The `node` arguments that start Hubbub; `nodeArgs` (--cpu-prof, say) go first. */
export const hubbubArgv = (nodeArgs = []) => [...nodeArgs, ...PROD_NODE_FLAGS, DIST_MAIN];

/**
 * Build policy: Hubbub is run from dist/. `npx nest build` runs first when dist/main.js is missing or older than any
 * file under src/ (always with `build`, never with `noBuild`), so a clean clone works after `npm ci` and a stale
 * build is never measured.
 */
export function ensureBuilt({ build = false, noBuild = false } = {}) {
  if (noBuild) {
    if (!existsSync(DIST_MAIN)) throw new Error('dist/main.js is missing and --no-build was given');
    return;
  }
  const newest = readdirSync(join(ROOT, 'src'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((m, e) => Math.max(m, statSync(join(e.parentPath, e.name)).mtimeMs), 0);
  const stale = !existsSync(DIST_MAIN) || statSync(DIST_MAIN).mtimeMs < newest;
  if (!build && !stale) return;
  console.log('Building Hubbub (npx nest build)…');
  if (spawnSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0)
    throw new Error('`nest build` failed; fix the build or pass --no-build to use dist/ as it is');
}

// ───────────────────────────────────── processes ─────────────────────────────────────

let tasksetFound;
export const hasTaskset = () =>
  (tasksetFound ??= spawnSync('sh', ['-c', 'command -v taskset']).status === 0);
export const hardFileLimit = () =>
  Number(spawnSync('sh', ['-c', 'ulimit -Hn']).stdout.toString().trim()) || 1024;

const children = new Set();
let hooked = false;
function killChildrenOnSignal() {
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => {
      for (const child of children) child.kill('SIGKILL');
      process.exit(1);
    });
}

/**
 * Spawns `argv`; with `core`, pinned to that core (when taskset exists); with `nofile`, under `ulimit -n` raised to
 * it or, when refused, to the hard limit (exec keeps the pid). Killed if this process gets SIGINT or SIGTERM.
 */
export function launch(argv, { core, nofile, ...options } = {}) {
  const cmd = core !== undefined && hasTaskset() ? ['taskset', '-c', String(core), ...argv] : argv;
  let child;
  if (nofile === undefined) child = spawn(cmd[0], cmd.slice(1), options);
  else {
    const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${quoted}`;
    child = spawn('sh', ['-c', script], options);
  }
  killChildrenOnSignal();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Starts `node <argv>` on a free port and resolves once GET `health` answers 200. A fresh temp dir is its working
 * directory (Hubbub loads ./.env from its cwd, and a developer's .env must not change what is measured) and holds
 * its SQLite file; the environment is built from scratch: production settings, the bench's JWT secret, the rate
 * limit lifted (one publisher sends thousands of messages per second), then `env`. `core` / `nofile`: see launch.
 */
export async function startServer({
  name,
  argv,
  secret,
  env: extraEnv = {},
  health = '/health',
  port: fixedPort,
  ...launchOptions
}) {
  // `port`: the same one again, to restart an instance where its clients reconnect (run.mjs: the reconnect storm).
  const port = fixedPort ?? (await freePort());
  const cwd = mkdtempSync(join(tmpdir(), 'hubbub-bench-'));
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: secret,
    DEV_TOKENS: 'false',
    ALLOWED_ORIGINS: 'http://localhost',
    SQLITE_PATH: join(cwd, 'hubbub.db'),
    RATE_LIMIT_PER_SEC: '1000000',
    RATE_LIMIT_BURST: '1000000',
    LOG_LEVEL: 'warn',
    NODE_ID: `bench-${port}`,
    ...extraEnv,
  };
  const child = launch([process.execPath, ...argv], {
    ...launchOptions,
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { name, port, pid: child.pid, child, cwd, output: [], exited: false };
  // The last lines of output, shown if the server dies or exits badly.
  const keep = (chunk) => {
    server.output.push(...chunk.toString().split('\n').filter(Boolean));
    server.output.splice(0, server.output.length - 30);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => ((server.exited = true), resolve({ code, signal }))),
  );
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exited) {
      rmSync(cwd, { recursive: true, force: true });
      throw new Error(`${name} exited during start:\n${server.output.join('\n')}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${port}${health}`)).ok) return server;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopServer(server, { signal: 'SIGKILL' });
  throw new Error(`${name} did not become healthy within 30 s:\n${server.output.join('\n')}`);
}

/** SIGTERM (Hubbub drains, exits 0 and writes its CPU profile), SIGKILL if that takes over 15 s. */
export async function stopServer(server, { signal = 'SIGTERM' } = {}) {
  if (!server.exited) server.child.kill(signal);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  const { code, signal: by } = await server.exit;
  clearTimeout(timer);
  if (code !== 0 && signal === 'SIGTERM')
    console.warn(
      `${server.name} exited with ${code ?? by}:\n${server.output.slice(-10).join('\n')}`,
    );
  rmSync(server.cwd, { recursive: true, force: true });
}

/**
 * Starts a load client (`node <script> <args>`, see launch for `core` / `nofile`) and returns a tiny RPC handle:
 * call(command, args) → its result. The script answers `{id, cmd, args}` IPC messages with `{id, result | error}`.
 */
export function startLoadClient(script, args = [], launchOptions = {}) {
  const child = launch([process.execPath, script, ...args], {
    ...launchOptions,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
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

/** The load client's side of startLoadClient: answers each IPC message with `commands[cmd](args)`. */
export function serveCommands(commands) {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      if (!Object.hasOwn(commands, cmd)) throw new Error(`unknown command ${cmd}`);
      process.send({ id, result: await commands[cmd](args) });
    } catch (err) {
      process.send({ id, error: err?.stack ?? String(err) });
    }
  });
  process.on('SIGTERM', () => process.exit(0));
}

// ───────────────────────────────────── measuring ─────────────────────────────────────

/**
 * Runs fn and adds to its result the CPU used meanwhile (1.0 = one core busy) by the server(s), by the load client,
 * by every other process, and by the whole machine, and the 1-minute load average: a benchmark on a shared 2-core
 * box is only as good as the "others" figure.
 */
export async function withCpu(servers, client, fn) {
  const pids = [servers].flat().map((s) => s.pid);
  const cpuOf = () => pids.reduce((sum, pid) => sum + readCpuSeconds(pid), 0);
  const before = [cpuOf(), readCpuSeconds(client.pid), readBusySeconds()];
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const serverSec = cpuOf() - before[0];
  const clientSec = readCpuSeconds(client.pid) - before[1];
  const busy = readBusySeconds() - before[2];
  return {
    ...result,
    serverSec,
    cpu: {
      server: serverSec / wall,
      client: clientSec / wall,
      others: Math.max(0, (busy - serverSec - clientSec) / wall),
      machine: busy / wall,
    },
    load: loadavg()[0],
  };
}

/** utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
export function readCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU time all cores spent not idle, from the first line of /proc/stat (same 1/100 s ticks). */
export function readBusySeconds() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

export function readRssKb(pid) {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)[1]);
}

// ───────────────────────────────────── misc ─────────────────────────────────────

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function markdownTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r) => `| ${r.map((cell, c) => String(cell ?? '').padEnd(widths[c])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
