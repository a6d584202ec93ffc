/**
 * Issue 8, point 9: slow and half-open clients. A connection that has not completed its HTTP upgrade request within
 * HANDSHAKE_TIMEOUT_MS is closed, and one remote address may hold at most MAX_PENDING_PER_ADDRESS connections that
 * have not completed theirs.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { MAX_PENDING_PER_ADDRESS } from '../../src/http/handshake-limits';
import { trackedClients } from '../support/clients';
import { startServer, type TestServer } from '../support/server';
import { handshakeStatus } from '../support/ws-client';

const TIMEOUT_MS = 400;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the ms from now until the server closes the socket. */
function closedAfter(socket: Socket, started = performance.now()): Promise<number> {
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('close', () => resolve(performance.now() - started));
  });
}

describe('slow and half-open handshakes', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ HANDSHAKE_TIMEOUT_MS: String(TIMEOUT_MS) });
  });
  afterAll(async () => {
    await server.close();
  });

  const { connect } = trackedClients(() => server);

  it('closes a connection whose upgrade request headers stay incomplete after HANDSHAKE_TIMEOUT_MS', async () => {
    const socket = await open(server.port);
    const started = performance.now();
    const closed = closedAfter(socket, started);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`,
    );
    // Trickle a header byte now and then, as a slowloris would: it does not extend the deadline.
    const trickle = setInterval(() => socket.writable && socket.write('X'), TIMEOUT_MS / 4);
    try {
      const ms = await closed;
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(ms).toBeLessThan(TIMEOUT_MS + 2000);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a connection that sends nothing at all', async () => {
    const socket = await open(server.port);
    const ms = await closedAfter(socket);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
  });

  it('leaves completed handshakes alone: an open socket outlives the timeout', async () => {
    const client = await connect('alice');
    // Three timeouts later (awaited through the server's own cut of a silent socket) the client still answers.
    for (let i = 0; i < 3; i++) await closedAfter(await open(server.port));
    expect((await client.request('ping')).event).toBe('pong');
  });
});

describe('pending handshakes per address', () => {
  // A deadline far beyond the test: whatever closes the extra connection, it is not the timeout. Were there no cap,
  // the extra connection would stay open and the test would time out.
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ HANDSHAKE_TIMEOUT_MS: '60000' });
  });
  afterAll(async () => {
    await server.close();
  });

  it(`caps one address at ${MAX_PENDING_PER_ADDRESS} connections that have not completed a request`, async () => {
    const sockets = await Promise.all(
      Array.from({ length: MAX_PENDING_PER_ADDRESS }, () => open(server.port)),
    );
    const cut: Socket[] = [];
    for (const socket of sockets) void closedAfter(socket).then(() => cut.push(socket));
    try {
      // One more from the same address is cut at once, and only that one.
      await closedAfter(await open(server.port));
      expect(cut).toEqual([]);
      // The pending ones were not touched by that: the first one still completes a request.
      sockets[0].write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        sockets[0].on('data', (chunk: Buffer) => (text += chunk.toString()));
        sockets[0].once('close', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    // Once the server has seen them go, the address may connect again (a few attempts: the resets of the 64
    // sockets and the next connection reach the server in no guaranteed order).
    let status = 0;
    for (let attempt = 0; attempt < 5 && status !== 101; attempt++) {
      status = await handshakeStatus(server.wsUrl, {
        authorization: `Bearer ${await server.token('bob')}`,
      }).catch(() => 0);
    }
    expect(status).toBe(101);
  });
});
