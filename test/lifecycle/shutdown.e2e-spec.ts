import { connect, type Socket } from 'node:net';
import {
  buildServerOnce,
  removeBuild,
  runUntilExit,
  spawnServer,
  type ChildServer,
} from '../support/child-server';
import { requestJson } from '../support/http';
import { handshakeStatus, TestClient } from '../support/ws-client';

const SHUTDOWN_TIMEOUT_MS = 3000;

jest.setTimeout(30_000);

// One compiled build for the whole file, removed at the end.
beforeAll(async () => {
  await buildServerOnce();
}, 120_000);
afterAll(() => {
  removeBuild();
});

async function devToken(server: ChildServer, userId: string): Promise<string> {
  const res = await requestJson(`${server.url}/dev/token`, 'POST', { userId });
  expect(res.status).toBe(201);
  return (res.body as { token: string }).token;
}

/**
 * A WebSocket peer that completes the handshake and then never answers anything, not even the close frame, so
 * the server's drain has to wait for it: this keeps the draining phase open long enough to be observed.
 */
function stalledPeer(port: number, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'GET /ws HTTP/1.1\r\n' +
          `Host: 127.0.0.1:${port}\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Version: 13\r\n' +
          `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\n` +
          `Authorization: Bearer ${token}\r\n\r\n`,
      );
    });
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Polls readiness as fast as it answers and returns the first answer that is not 200 (or 'refused'). */
async function firstNotReady(url: string, timeoutMs: number): Promise<number | 'refused'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health/ready`);
      await res.arrayBuffer();
      if (res.status !== 200) return res.status;
    } catch {
      return 'refused';
    }
  }
  throw new Error(`readiness still 200 after ${timeoutMs} ms`);
}

describe('graceful shutdown of the server process', () => {
  it('on SIGTERM turns readiness 503, refuses new handshakes, closes clients with 1001 and exits 0 within SHUTDOWN_TIMEOUT_MS', async () => {
    const server = await spawnServer({ SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    let stalled: Socket | undefined;
    try {
      const a = await TestClient.connect(server.wsUrl, await devToken(server, 'alice'));
      const b = await TestClient.connect(server.wsUrl, await devToken(server, 'bob'));
      const token = await devToken(server, 'carol');
      stalled = await stalledPeer(server.port, token);
      expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);

      const closes = Promise.all([
        a.waitClose(SHUTDOWN_TIMEOUT_MS),
        b.waitClose(SHUTDOWN_TIMEOUT_MS),
      ]);
      const exit = server.waitForExit(SHUTDOWN_TIMEOUT_MS + 2000);
      const signalledAt = Date.now();
      server.kill('SIGTERM');

      expect(await firstNotReady(server.url, SHUTDOWN_TIMEOUT_MS)).toBe(503);
      // Still draining (the stalled peer holds it open): a new handshake is refused before any upgrade.
      expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${token}` })).toBe(503);

      expect(await closes).toEqual([1001, 1001]);
      const result = await exit;
      const tookMs = Date.now() - signalledAt;
      expect(result).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS);
    } finally {
      stalled?.destroy();
      server.kill('SIGKILL');
    }
  });

  it('on SIGINT closes clients with 1001 and exits 0 promptly when every client acknowledges', async () => {
    const server = await spawnServer({ SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    try {
      const a = await TestClient.connect(server.wsUrl, await devToken(server, 'alice'));
      const b = await TestClient.connect(server.wsUrl, await devToken(server, 'alice'));
      const closes = Promise.all([
        a.waitClose(SHUTDOWN_TIMEOUT_MS),
        b.waitClose(SHUTDOWN_TIMEOUT_MS),
      ]);
      const signalledAt = Date.now();
      server.kill('SIGINT');
      expect(await closes).toEqual([1001, 1001]);
      expect(await server.waitForExit(SHUTDOWN_TIMEOUT_MS + 2000)).toEqual({
        code: 0,
        signal: null,
      });
      // Nobody stalls the drain here, so it does not take the drain budget (half the timeout).
      expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('exits 0 on SIGTERM with no client connected', async () => {
    const server = await spawnServer({ SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    server.kill('SIGTERM');
    expect(await server.waitForExit(SHUTDOWN_TIMEOUT_MS + 2000)).toEqual({ code: 0, signal: null });
  });
});

describe('configuration refused at start', () => {
  it('exits non-zero with one stderr line naming PORT when PORT=abc', async () => {
    const result = await runUntilExit({ PORT: 'abc' });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(/\bPORT\b/);
  });

  it('exits non-zero with one stderr line naming JWT_SECRET when NODE_ENV=production has none', async () => {
    const result = await runUntilExit({
      NODE_ENV: 'production',
      JWT_SECRET: undefined,
      ALLOWED_ORIGINS: 'https://app.example',
      DEV_TOKENS: 'false',
    });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(/\bJWT_SECRET\b/);
  });
});
