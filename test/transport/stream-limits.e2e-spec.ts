/**
 * The HTTP transports (contract section 10) under bad input and at their bounds: authentication, origin and CORS,
 * sessions that are unknown, closed or someone else's (404), too many or too large frames (413), the per-user quota
 * (a session counts as one connection), heartbeats, the handshake limits (a stream is never cut as "pending"), the
 * slow-consumer bound, `?channels=`, token expiry, shutdown, and TRANSPORTS.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShutdownService } from '../../src/lifecycle/shutdown.service';
import { StreamSessions } from '../../src/stream/stream-sessions.service';
import { ClientRegistry } from '../../src/ws/client-registry.service';
import { describeWithOpenssl, makeCertificate } from '../support/certificates';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { postSend, StreamRefused, StreamTestClient } from '../support/stream-client';
import { handshakeStatus, TestClient } from '../support/ws-client';

const API_KEY = 'stream-limits-key-0123456789abcdef';
const api = serverApi(API_KEY);
const ORIGIN = 'https://app.example';
const HEARTBEAT_MS = 300;

/** The status a stream open gets (200 when it opened; the client is then closed). */
async function openStatus(
  server: TestServer,
  transport: 'sse' | 'stream',
  token?: string,
  headers: Record<string, string> = {},
): Promise<number> {
  try {
    const client = await StreamTestClient.connect(transport, server.url, token, { headers });
    await client.close();
    return 200;
  } catch (err) {
    if (err instanceof StreamRefused) return err.status;
    throw err;
  }
}

describe('HTTP transports: bad input and bounds', () => {
  let server: TestServer;
  const clients: { close(): Promise<unknown> }[] = [];
  const track = <T extends { close(): Promise<unknown> }>(c: T): T => (clients.push(c), c);
  const sse = async (sub: string, claims: Record<string, unknown> = {}, channels?: string[]) =>
    track(
      await StreamTestClient.connect('sse', server.url, await server.token(sub, claims), {
        channels,
      }),
    );

  beforeAll(async () => {
    server = await startServer({
      API_KEY,
      ALLOWED_ORIGINS: ORIGIN,
      MAX_CONNECTIONS_PER_USER: '2',
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      HANDSHAKE_TIMEOUT_MS: '150',
      MAX_PAYLOAD_BYTES: '1024',
      MAX_BUFFERED_BYTES: String(64 * 1024),
      RATE_LIMIT_PER_SEC: '10000',
      RATE_LIMIT_BURST: '10000',
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a missing or bad token with 401, on the streams and on sends', async () => {
    expect(await openStatus(server, 'sse')).toBe(401);
    expect(await openStatus(server, 'stream', 'not-a-jwt')).toBe(401);
    const expired = await server.token('x', {}, -10);
    expect(await openStatus(server, 'sse', expired)).toBe(401);
    const client = await sse(`u-${rid()}`);
    expect(
      (
        await postSend(server.url, undefined, {
          session: client.session,
          frames: [{ event: 'ping' }],
        })
      ).status,
    ).toBe(401);
    expect(
      (await postSend(server.url, 'bad', { session: client.session, frames: [{ event: 'ping' }] }))
        .status,
    ).toBe(401);
  });

  it('counts session opens and refusals in hubbub_handshakes_total, as upgrades', async () => {
    const sample = async (result: string): Promise<number> => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`hubbub_handshakes_total{result="${result}"}`));
      return Number(line?.split(' ')[1] ?? NaN);
    };
    const [accepted, unauthorized] = [await sample('accepted'), await sample('unauthorized')];
    await sse(`m-${rid()}`);
    expect(await openStatus(server, 'stream', 'bad')).toBe(401);
    expect(await sample('accepted')).toBe(accepted + 1);
    expect(await sample('unauthorized')).toBe(unauthorized + 1);
  });

  it('takes the token from access_token in the query, as EventSource must', async () => {
    const user = `q-${rid()}`;
    const res = await fetch(`${server.url}/sse?access_token=${await server.token(user)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/^data: \{"event":"welcome"/);
    await reader.cancel();
  });

  it('opens POST /stream with an empty body too, as newline-delimited JSON', async () => {
    const res = await fetch(`${server.url}/stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.token(`e-${rid()}`)}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const first = JSON.parse(new TextDecoder().decode(value).split('\n')[0]) as {
      event: string;
      data: { session: string };
    };
    expect(first).toMatchObject({ event: 'welcome', data: { session: expect.any(String) } });
    await reader.cancel();
  });

  it('checks the origin like /ws (403) and answers the CORS preflight within ALLOWED_ORIGINS', async () => {
    const token = await server.token(`o-${rid()}`);
    expect(await openStatus(server, 'sse', token, { origin: 'https://evil.example' })).toBe(403);
    const client = track(
      await StreamTestClient.connect('sse', server.url, token, { headers: { origin: ORIGIN } }),
    );
    expect(client.response.headers['access-control-allow-origin']).toBe(ORIGIN);
    const pre = await fetch(`${server.url}/stream/send`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const foreign = await fetch(`${server.url}/stream`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const sent = await postSend(
      server.url,
      token,
      { session: client.session, frames: [{ event: 'ping', id: 1 }] },
      { origin: 'https://evil.example' },
    );
    expect(sent.status).toBe(403);
  });

  it("answers 404 for an unknown, malformed, closed or another user's session", async () => {
    const alice = await sse(`alice-${rid()}`);
    const bobToken = await server.token(`bob-${rid()}`);
    const frames = [{ event: 'ping', id: 1 }];
    const [node] = alice.session.split('.');
    const unknown = `${node}.${'A'.repeat(32)}`;
    expect((await postSend(server.url, alice.token, { session: unknown, frames })).status).toBe(
      404,
    );
    expect((await postSend(server.url, alice.token, { session: 'nope', frames })).status).toBe(404);
    expect((await postSend(server.url, bobToken, { session: alice.session, frames })).status).toBe(
      404,
    );
    expect(alice.frames.some((f) => f.event === 'pong')).toBe(false);
    expect(
      (await postSend(server.url, alice.token, { session: alice.session, frames })).status,
    ).toBe(202);
    await alice.wait((f) => f.id === 1, 'pong');
    const session = alice.session;
    await alice.close();
    await until(() => server.app.get(StreamSessions).size === 0);
    expect((await postSend(server.url, alice.token, { session, frames })).status).toBe(404);
  });

  it('answers 413 past 64 frames or for a frame over MAX_PAYLOAD_BYTES, 400 for a body without frames', async () => {
    const client = await sse(`big-${rid()}`);
    const ping = { event: 'ping' };
    const session = client.session;
    expect(
      (await postSend(server.url, client.token, { session, frames: Array(65).fill(ping) })).status,
    ).toBe(413);
    const big = { event: 'ping', data: { pad: 'x'.repeat(1100) } };
    expect((await postSend(server.url, client.token, { session, frames: [big] })).status).toBe(413);
    expect((await postSend(server.url, client.token, { session, frames: [] })).status).toBe(400);
    expect((await postSend(server.url, client.token, { frames: [ping] })).status).toBe(400);
    expect((await postSend(server.url, client.token, '{bad json')).status).toBe(400);
    // 64 frames of the largest size pass, and each is answered on the stream.
    const most = Array.from({ length: 64 }, (_, i) => ({
      event: 'ping',
      id: i,
      data: { p: 'y'.repeat(950) },
    }));
    expect((await postSend(server.url, client.token, { session, frames: most })).status).toBe(202);
    await client.wait((f) => f.id === 63, 'the 64th pong');
  });

  it("answers a frame nested too deep, or not an object, with the socket's error frames", async () => {
    const client = await sse(`deep-${rid()}`);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(await client.post([{ event: 'ping', id: 7, data: deep }])).toBe(202);
    const tooDeep = await client.wait((f) => f.id === 7, 'the error of frame 7');
    expect(tooDeep).toMatchObject({ event: 'error', data: { code: 'bad_request' } });
    await client.post([[1, 2], 'null', { event: 'ping', id: 8 }]);
    expect((await client.next('error')).data.code).toBe('bad_request');
    expect((await client.next('error')).data.code).toBe('bad_request');
    await client.wait((f) => f.id === 8, 'pong');
  });

  it('counts a session as one connection of the user: 429 past MAX_CONNECTIONS_PER_USER, freed on close', async () => {
    const user = `quota-${rid()}`;
    const token = await server.token(user);
    const ws = track(await TestClient.connect(server.wsUrl, token));
    const first = await sse(user);
    expect(await openStatus(server, 'stream', token)).toBe(429);
    expect(await handshakeStatus(`${server.wsUrl}?access_token=${token}`)).toBe(429);
    await first.close();
    await until(() => server.app.get(ClientRegistry).forUser(user).size === 1);
    expect(await openStatus(server, 'stream', token)).toBe(200);
    await ws.close();
  });

  it('sends heartbeats, and a stream outlives HANDSHAKE_TIMEOUT_MS (never cut as a pending connection)', async () => {
    for (const transport of ['sse', 'stream'] as const) {
      const client = track(
        await StreamTestClient.connect(transport, server.url, await server.token(`hb-${rid()}`)),
      );
      await client.nextHeartbeat(HEARTBEAT_MS * 4);
      const started = Date.now();
      for (let i = 0; i < 6; i++) await client.nextHeartbeat(HEARTBEAT_MS * 4);
      // One every half interval (and the sweep's): on average well under HEARTBEAT_INTERVAL_MS apart.
      expect((Date.now() - started) / 6).toBeLessThan(HEARTBEAT_MS * 0.75);
      // Far past HANDSHAKE_TIMEOUT_MS (150 ms) since the request, and still served.
      expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
    }
  });

  it('GET /sse?channels= subscribes at once: publications arrive with no frame sent', async () => {
    const [a, b] = [`ca-${rid()}`, `cb-${rid()}`];
    const client = await sse(`ch-${rid()}`, {}, [a, b]);
    // The server API's subscriber count proves both subscriptions are in place.
    await until(
      async () => (await api(server, 'GET', `/api/channels/${b}`)).body.subscribers === 1,
    );
    await api(server, 'POST', `/api/channels/${a}/publish`, { data: 'A' });
    await api(server, 'POST', `/api/channels/${b}/publish`, { data: 'B' });
    expect((await client.next('channel.message')).data).toMatchObject({ channel: a, data: 'A' });
    expect((await client.next('channel.message')).data).toMatchObject({ channel: b, data: 'B' });
    expect(client.sendStatuses).toEqual([]);
    const tooMany = Array.from({ length: 101 }, (_, i) => `c${i}`).join(',');
    const token = await server.token(`many-${rid()}`);
    expect(
      (await fetch(`${server.url}/sse?channels=${tooMany}&access_token=${token}`)).status,
    ).toBe(400);
  });

  it('closes a session whose client reads nothing as a slow consumer, and cleans it up', async () => {
    const user = `slow-${rid()}`;
    const channel = `firehose-${rid()}`;
    const slow = await sse(user, {}, [channel]);
    await until(
      async () => (await api(server, 'GET', `/api/channels/${channel}`)).body.subscribers === 1,
    );
    const registry = server.app.get(ClientRegistry);
    const conn = [...registry.forUser(user)][0];
    slow.response.pause();
    const publisher = track(
      await TestClient.connect(
        server.wsUrl,
        await server.token(`pub-${rid()}`, { roles: ['admin'] }),
      ),
    );
    const chunk = 'z'.repeat(900);
    for (let i = 0; i < 20_000 && !conn.closed; i++) {
      await publisher.call('channel.publish', { channel, data: chunk });
    }
    expect(conn.closed).toBe(true);
    slow.response.resume();
    expect(await slow.waitClose(10_000)).toBe(1013);
    await until(() => registry.forUser(user).size === 0);
  });

  it('pushes token_expired and closes with 4401 when the token expires', async () => {
    const client = track(
      await StreamTestClient.connect(
        'stream',
        server.url,
        await server.token(`exp-${rid()}`, {}, 2),
      ),
    );
    expect((await client.next('error', 6000)).data.code).toBe('token_expired');
    expect(await client.waitClose(6000)).toBe(4401);
  });
});

describe('HTTP transports: shutdown', () => {
  it('closes every stream session with 1001 when the server drains', async () => {
    const server = await startServer();
    const a = await StreamTestClient.connect('sse', server.url, await server.token('a'));
    const b = await StreamTestClient.connect('stream', server.url, await server.token('b'));
    const drained = server.app.get(ShutdownService).drainConnections(5000);
    expect(await a.waitClose()).toBe(1001);
    expect(await b.waitClose()).toBe(1001);
    await drained;
    expect(server.app.get(ClientRegistry).size).toBe(0);
    await server.close();
  });
});

describe('TRANSPORTS', () => {
  it('without websocket: /ws answers 404, the streams work', async () => {
    const server = await startServer({ TRANSPORTS: 'sse,stream' });
    const token = await server.token('t');
    expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${token}` })).toBe(404);
    expect((await fetch(`${server.url}/ws?access_token=${token}`)).status).toBe(404);
    expect(await openStatus(server, 'sse', token)).toBe(200);
    await server.close();
  });

  it('with websocket only: /sse, /stream and /stream/send answer 404', async () => {
    const server = await startServer({ TRANSPORTS: 'websocket' });
    const token = await server.token('t');
    expect(await openStatus(server, 'sse', token)).toBe(404);
    expect(await openStatus(server, 'stream', token)).toBe(404);
    expect(
      (await postSend(server.url, token, { session: 'x', frames: [{ event: 'ping' }] })).status,
    ).toBe(404);
    expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${token}` })).toBe(101);
    await server.close();
  });
});

describeWithOpenssl('HTTP transports over TLS', () => {
  it('streams over HTTPS past HANDSHAKE_TIMEOUT_MS, with heartbeats', async () => {
    const { certFile, keyFile } = makeCertificate(
      mkdtempSync(join(tmpdir(), 'hubbub-stream-tls-')),
    );
    const server = await startServer({
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      HANDSHAKE_TIMEOUT_MS: '150',
    });
    const url = server.url.replace('http:', 'https:');
    const client = await StreamTestClient.connect('sse', url, await server.token('tls'));
    await client.nextHeartbeat(HEARTBEAT_MS * 4);
    await client.nextHeartbeat(HEARTBEAT_MS * 4);
    expect(client.closeCode).toBeUndefined();
    await client.close();
    await server.close();
  });
});

/** Polls a condition that an event outside the test's reach makes true (a cleanup, a subscriber count). */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HTTP transports: clients that ping (clientPings=1, as the SDK opens them)', () => {
  it('keep a pinging session, and drop one that stops within two heartbeats (presence.leave)', async () => {
    const server = await startServer({ HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) });
    try {
      const watcher = await TestClient.connect(server.wsUrl, await server.token('watcher'));
      await watcher.call('chat.join', { room: 'alive' });
      const silent = await StreamTestClient.connect(
        'sse',
        `${server.url}`,
        await server.token('silent'),
        { query: 'clientPings=1' },
      );
      await silent.call('chat.join', { room: 'alive' });
      // Pings for three heartbeats: still there.
      for (let i = 0; i < 6; i++) {
        await silent.call('ping');
        await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS / 2));
      }
      expect(silent.closeCode).toBeUndefined();
      // Then silence (the TCP connection stays open, as when a phone loses its network).
      const left = await watcher.next('presence.leave', HEARTBEAT_MS * 5);
      expect(left.data).toMatchObject({ room: 'alive', userId: 'silent' });
      await silent.close();
      await watcher.close();
    } finally {
      await server.close();
    }
  });
});
