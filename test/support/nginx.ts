/**
 * A real nginx in front of Hubbub, for the tests that prove docs/deployment.md's nginx configuration: the config is
 * the fenced `nginx` block of that page (the one with `upstream hubbub`), with only its addresses, ports and
 * certificate paths replaced. nginx runs as a child process on spare ports, in a directory of its own, and is
 * stopped by PID. Debian's `nginx` package; where it is missing the tests print one line and skip, or fail under
 * REQUIRE_SERVICES=1 (as for PostgreSQL and Redis, see services.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DOCS = resolve(__dirname, '..', '..', 'docs', 'deployment.md');

export const NGINX_BIN = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find(
  (path) => existsSync(path),
);

/** `describe` when nginx is installed; otherwise one line and a skipped block, or a failing test (REQUIRE_SERVICES=1). */
export function describeWithNginx(name: string, fn: () => void): void {
  if (NGINX_BIN) return describe(name, fn);
  if (process.env.REQUIRE_SERVICES === '1') {
    return describe(name, () => {
      it('needs nginx (required by REQUIRE_SERVICES=1)', () => {
        throw new Error("nginx is not installed: install Debian's nginx package (.ci/run does)");
      });
    });
  }
  console.warn(`skipping ${name}: nginx is not installed`);
  describe.skip(name, () => it('needs nginx', () => undefined));
}

/** The fenced nginx block of docs/deployment.md that configures the proxy (the one with `upstream hubbub`). */
export function documentedNginxConfig(): string {
  const blocks = [...readFileSync(DOCS, 'utf8').matchAll(/```nginx\n([\s\S]*?)```/g)].map(
    (m) => m[1],
  );
  const config = blocks.find((block) => /upstream hubbub\s*\{/.test(block));
  if (!config) throw new Error('docs/deployment.md has no nginx block with `upstream hubbub`');
  return config;
}

export interface NginxPorts {
  /** Hubbub's plain-HTTP port (the one upstream). */
  upstream: number;
  http: number;
  https: number;
  certFile: string;
  keyFile: string;
}

/** The documented config with the test's addresses, ports and certificate: nothing else is changed. */
export function testedNginxConfig(ports: NginxPorts): string {
  let upstreamDone = false;
  const config = documentedNginxConfig()
    .replace(
      /^(\s*)server \d+\.\d+\.\d+\.\d+:\d+(.*;.*)$/gm,
      (_line, indent: string, rest: string) => {
        if (upstreamDone) return `${indent}# (one upstream instance in the test)`;
        upstreamDone = true;
        return `${indent}server 127.0.0.1:${ports.upstream}${rest}`;
      },
    )
    .replace(/^\s*listen \[::\].*$/gm, '') // the test listens on 127.0.0.1 only
    .replace(/listen 80;/g, `listen 127.0.0.1:${ports.http};`)
    .replace(/listen 443 /g, `listen 127.0.0.1:${ports.https} `)
    .replace(/(ssl_certificate\s+)\S+;/, `$1${ports.certFile};`)
    .replace(/(ssl_certificate_key\s+)\S+;/, `$1${ports.keyFile};`);
  if (!upstreamDone) throw new Error('the documented nginx block has no upstream server line');
  return config;
}

export interface RunningNginx {
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** Starts nginx (master and one worker, in the foreground) with `httpBlock` inside `http {}`. */
export async function startNginx(httpBlock: string, readyPort: number): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      process.getuid?.() === 0 ? 'user root;' : '',
      'daemon off;',
      'worker_processes 1;',
      'worker_rlimit_nofile 16384;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 12000; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`,
      ),
      httpBlock,
      '}',
      '',
    ].join('\n'),
  );
  const proc = spawn(NGINX_BIN!, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const stop = (): Promise<void> =>
    new Promise<void>((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      proc.once('exit', () => done());
      proc.kill('SIGTERM'); // by PID: nginx's fast shutdown
    }).then(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing to await but the port opening (or nginx exiting on a bad config): poll it.
  const deadline = Date.now() + 10_000;
  while (!(await accepts(readyPort))) {
    if (exited || Date.now() > deadline) {
      const logFile = join(dir, 'error.log');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      await stop();
      throw new Error(`nginx did not start listening on ${readyPort}: ${output}${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, dir, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
