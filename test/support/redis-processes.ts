import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Tests that run redis-server processes of their own (to stop them, or to fail one over). */
export const REDIS_BIN = '/usr/bin/redis-server';

/**
 * Starts `redis-server <args>` and resolves once its log shows `readyLine`; rejects if it exits first, or after
 * `timeoutMs`. The caller stops it by PID with {@link stopProcess}.
 */
export function startRedisProcess(
  args: string[],
  readyLine = 'Ready to accept connections',
  timeoutMs = 10_000,
): Promise<ChildProcess> {
  const proc = spawn(REDIS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`redis-server ${args.join(' ')} not ready within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(readyLine)) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        resolve(proc);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited: ${out}`));
    });
  });
}

/**
 * A throw-away redis-server on 127.0.0.1:`port` that writes nothing to disk (no RDB snapshot, no AOF), ready to
 * accept connections; `extraArgs` are appended (`--dir`, `--replicaof`, ...). Stop it with {@link stopProcess}.
 */
export function startEphemeralRedis(port: number, extraArgs: string[] = []): Promise<ChildProcess> {
  return startRedisProcess([
    ...['--port', String(port), '--bind', '127.0.0.1'],
    ...['--save', '', '--appendonly', 'no'],
    ...extraArgs,
  ]);
}

/** SIGKILL by PID, resolved once it has exited (at once when it already has). */
export function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

/**
 * `gate.describe` when the redis-server binary exists; otherwise a failing test under REQUIRE_SERVICES=1, or a
 * skipped block with one line.
 */
export function redisBinaryGate(
  gate: { describe: (name: string, fn: () => void) => void },
  what: string,
): { describe: (name: string, fn: () => void) => void } {
  if (existsSync(REDIS_BIN)) return gate;
  if (process.env.REQUIRE_SERVICES === '1') {
    return {
      describe: (name) =>
        describe(name, () => {
          test(`${REDIS_BIN} exists (required by REQUIRE_SERVICES=1)`, () => {
            throw new Error(`${REDIS_BIN} not found: install Debian's redis-server`);
          });
        }),
    };
  }
  process.stderr.write(`skipping ${what}: ${REDIS_BIN} not found\n`);
  return { describe: describe.skip };
}

/** Polls `check` every 50 ms until it returns true; throws `what` after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
