// Pieces of scripts/chaos.mjs: a TCP proxy it owns (to cut PostgreSQL or partition Redis silently), a redis-server
// of its own, a webhook receiver, signed tokens and a minimal WebSocket client.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createConnection, createServer } from 'node:net';
import WebSocket from 'ws';

/** cut(): close every connection and refuse new ones; hold(): forward nothing, connections stay open; restore(). */
export async function tcpProxy(targetPort) {
  const pairs = new Set();
  let state = 'open';
  const server = createServer((client) => {
    if (state === 'cut') return void client.destroy();
    const upstream = createConnection(targetPort, '127.0.0.1');
    const pair = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (state === 'held') for (const s of pair) s.pause();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    cut() {
      state = 'cut';
      for (const pair of pairs) for (const s of pair) s.destroy();
      pairs.clear();
    },
    hold() {
      state = 'held';
      for (const pair of pairs) for (const s of pair) s.pause();
    },
    restore() {
      state = 'open';
      for (const pair of pairs) for (const s of pair) s.resume();
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** redis-server on `port`, in memory only; resolves once it accepts connections. */
export function startRedis(port) {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${out}`)), 10_000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once('exit', () => reject(new Error(`redis-server exited:\n${out}`)));
  });
}

/** SIGKILL by PID; resolves once it exited. */
export function killProcess(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

/** Collects every webhook body (JSON) in arrival order. */
export async function webhookReceiver() {
  const bodies = [];
  const server = createHttpServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        bodies.push({
          ...JSON.parse(Buffer.concat(chunks).toString('utf8')),
          arrivedAt: Date.now(),
        });
      } catch {
        bodies.push({ id: '?', type: 'unparsable' });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    bodies,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

export function signer(secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return (sub, claims = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + 3600, ...claims })}`;
    return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
  };
}

/** One socket: request() by id, pushes to `onPush`, `closed` resolves with the close code. */
export class Sock {
  #next = 1;
  #waiting = new Map();
  onPush = () => {};

  constructor(ws) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    void this.closed.then(() => {
      for (const { reject } of this.#waiting.values()) reject(new Error('closed'));
      this.#waiting.clear();
    });
    ws.on('error', () => undefined);
    ws.on('message', (raw) => {
      let frame;
      try {
        frame = JSON.parse(raw.toString('utf8'));
      } catch {
        return;
      }
      if (frame.id !== undefined && this.#waiting.has(frame.id)) {
        const w = this.#waiting.get(frame.id);
        this.#waiting.delete(frame.id);
        w.resolve(frame);
      } else this.onPush(frame);
    });
  }

  /** Resolves after the welcome push; rejects on failure or after `ms`. */
  static open(url, token, ms = 10_000) {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const sock = new Sock(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (ws.terminate(), reject(new Error('open timed out'))), ms);
      sock.onPush = (f) => {
        if (f.event !== 'welcome') return;
        clearTimeout(timer);
        sock.onPush = () => {};
        resolve(sock);
      };
      ws.once(
        'unexpected-response',
        (_req, res) => (
          clearTimeout(timer),
          ws.terminate(),
          reject(new Error(`HTTP ${res.statusCode}`))
        ),
      );
      void sock.closed.then(
        () => (clearTimeout(timer), reject(new Error('closed before welcome'))),
      );
    });
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The reply frame (which may be an error frame); rejects on close or after `ms`. */
  request(event, data, ms = 8000) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${event} timed out`));
      }, ms);
      this.#waiting.set(id, {
        resolve: (f) => (clearTimeout(timer), resolve(f)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      try {
        this.ws.send(JSON.stringify({ event, id, data }));
      } catch (err) {
        this.#waiting.get(id)?.reject(err);
        this.#waiting.delete(id);
      }
    });
  }

  /** Like request() but throws on an error reply; returns data. */
  async call(event, data, ms) {
    const f = await this.request(event, data, ms);
    if (f.event === 'error')
      throw Object.assign(new Error(`${event}: ${f.data?.code}`), { code: f.data?.code });
    return f.data;
  }

  close() {
    if (this.open) this.ws.close(1000);
    return this.closed;
  }

  terminate() {
    this.ws.terminate();
  }
}
