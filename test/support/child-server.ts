/**
 * Runs Hubbub as a real child process, the way `npm run build && npm run start:prod` does: the sources are
 * compiled with tsc into a private directory inside the repository (so the compiled code resolves the project's
 * node_modules), and `node <dir>/main.js` is spawned with a controlled environment. Used where the test needs
 * what only a process has: signals, exit codes, stderr.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { TEST_SECRET } from './secret';

const REPO = resolve(__dirname, '..', '..');
const DIST_ROOT = join(REPO, '.test-dist');

let build: { dir: string; main: Promise<string> } | undefined;

/**
 * Compiles src/ once per test file (jest gives every file its own module registry) and resolves with the path of
 * the compiled main.js. Type errors do not stop the build (`--noCheck`): this is about running the code.
 */
export function buildServerOnce(): Promise<string> {
  if (build) return build.main;
  mkdirSync(DIST_ROOT, { recursive: true });
  const dir = join(DIST_ROOT, `${process.pid}-${randomBytes(4).toString('hex')}`);
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO] });
  const main = new Promise<string>((resolvePath, reject) => {
    execFile(
      process.execPath,
      [
        tsc,
        '-p',
        join(REPO, 'tsconfig.build.json'),
        '--outDir',
        dir,
        '--noCheck',
        '--sourceMap',
        'false',
      ],
      { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const mainJs = join(dir, 'main.js');
        if (existsSync(mainJs)) return resolvePath(mainJs);
        reject(new Error(`tsc build failed: ${err?.message ?? ''}\n${stdout}${stderr}`));
      },
    );
  });
  build = { dir, main };
  return main;
}

/** Deletes this file's build (and .test-dist itself once no other test file uses it). */
export function removeBuild(): void {
  if (!build) return;
  rmSync(build.dir, { recursive: true, force: true });
  build = undefined;
  try {
    rmdirSync(DIST_ROOT);
  } catch {
    // another test file still has its build there
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  port: number;
  url: string;
  wsUrl: string;
  proc: ChildProcess;
  /** Output lines so far (the arrays keep growing while the process runs). */
  stdout: string[];
  stderr: string[];
  /** Resolves when the process has exited; rejects after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<ExitResult>;
  kill(signal?: NodeJS.Signals): void;
}

/** `undefined` in `env` removes a key from the defaults. */
export type ChildEnv = Record<string, string | undefined>;

/**
 * Spawns the compiled server with a clean environment: the contract's keys only, the test secret, a fresh SQLite
 * file, a free port on 127.0.0.1, and a temporary working directory (so no `.env` is picked up).
 */
export async function launch(
  env: ChildEnv = {},
  options: { dotenv?: string } = {},
): Promise<ChildServer> {
  const main = await buildServerOnce();
  const cwd = mkdtempSync(join(tmpdir(), 'hubbub-child-'));
  if (options.dotenv !== undefined) writeFileSync(join(cwd, '.env'), options.dotenv);
  const port =
    env.PORT !== undefined && /^\d+$/.test(env.PORT) ? Number(env.PORT) : await freePort();
  const merged: ChildEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    DEV_TOKENS: 'true',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: TEST_SECRET,
    SQLITE_PATH: join(cwd, 'hubbub.db'),
    LOG_LEVEL: 'info',
    ...env,
  };
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) childEnv[key] = value;

  const proc = spawn(process.execPath, [main], {
    cwd,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(proc.stdout, stdout);
  collectLines(proc.stderr, stderr);
  const exited = new Promise<ExitResult>((resolveExit) => {
    proc.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  void exited.then(() => rmSync(cwd, { recursive: true, force: true }));

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    proc,
    stdout,
    stderr,
    waitForExit: (timeoutMs = 10_000) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        exited,
        new Promise<ExitResult>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`process did not exit within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    },
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** Spawns the server and resolves once GET /health answers 200; rejects with its stderr if it exits first. */
export async function spawnServer(
  env: ChildEnv = {},
  timeoutMs = 20_000,
  options: { dotenv?: string } = {},
): Promise<ChildServer> {
  const child = await launch(env, options);
  let exited = false;
  void child.waitForExit(timeoutMs + 1000).then(
    () => (exited = true),
    () => undefined,
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`server exited before answering /health:\n${child.stderr.join('\n')}`);
    }
    try {
      const res = await fetch(`${child.url}/health`);
      if (res.status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `server did not answer /health within ${timeoutMs} ms:\n${child.stderr.join('\n')}`,
      );
    }
    // Nothing to await here but the port opening: retry shortly.
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Spawns the server expecting it to stop by itself (a refused configuration, say); resolves with how it ended. */
export async function runUntilExit(
  env: ChildEnv,
  timeoutMs = 15_000,
): Promise<ExitResult & { stdout: string[]; stderr: string[] }> {
  const child = await launch(env);
  try {
    const result = await child.waitForExit(timeoutMs);
    // 'exit' can come before the last 'data' of the pipes: wait for them to end too.
    await Promise.all([ended(child.proc.stdout!), ended(child.proc.stderr!)]);
    return { ...result, stdout: child.stdout, stderr: child.stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

function ended(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolveEnd) => {
    if ((stream as unknown as { readableEnded?: boolean }).readableEnded) return resolveEnd();
    stream.once('end', () => resolveEnd());
    stream.once('close', () => resolveEnd());
  });
}

function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts.filter((line) => line.length > 0));
  });
  stream.on('end', () => {
    if (rest.length > 0) into.push(rest);
    rest = '';
  });
}
