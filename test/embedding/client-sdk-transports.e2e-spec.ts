import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClientRegistry } from '../../src/ws/client-registry.service';
import { FrameRouter } from '../../src/ws/frame-router';
import { until } from '../support/redis-processes';
import { OutboundWriter } from '../../src/ws/outbound-writer';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The client SDK over the HTTP transports in Node (global fetch, no WebSocket used): the same API, reconnect after
 * a server close with rooms rejoined from their last seq, a refused open reported with its HTTP status, and a
 * WebSocket that cannot reach the server giving way to SSE.
 */
type Sdk = typeof import('../../client/hubbub-client.js');
type HubbubClient = InstanceType<Sdk['HubbubClient']>;
type Message = import('../../client/hubbub-client.js').Message;

jest.setTimeout(30_000);

function nextEvent<T = any>(
  client: HubbubClient,
  event: string,
  where: (d: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), 10_000);
    const handler = (data: T): void => {
      if (!where(data)) return;
      clearTimeout(timer);
      client.off(event, handler);
      resolve(data);
    };
    client.on(event, handler);
  });
}

describe('client SDK over SSE and HTTP streaming', () => {
  let sdk: Sdk;
  let server: TestServer;
  const clients: HubbubClient[] = [];
  beforeAll(async () => {
    sdk = await import(pathToFileURL(join(__dirname, '../../client/hubbub-client.js')).href);
    server = await startServer();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(['sse', 'stream'] as const)(
    '%s: chats, and after a server close reconnects and gets what it missed',
    async (transport) => {
      const user = `sdk-${transport}`;
      const client = new sdk.HubbubClient(server.wsUrl, {
        token: await server.token(user),
        transports: [transport],
        backoffBaseMs: 50,
      });
      clients.push(client);
      const welcome = await client.connect();
      expect(welcome.userId).toBe(user);
      expect(client.transport).toBe(transport);
      const room = `room-${transport}`;
      await client.join(room);
      const peer = await TestClient.connect(server.wsUrl, await server.token(`peer-${transport}`));
      await peer.call('chat.join', { room });
      const pushed = nextEvent<Message>(client, 'chat.message', (m) => m.text === 'live');
      await peer.call('chat.send', { room, text: 'live' });
      await pushed;
      expect((await client.send(room, 'mine')).seq).toBe(2);

      const dropped = nextEvent(client, 'disconnected');
      const writer = server.app.get(OutboundWriter);
      for (const conn of [...server.app.get(ClientRegistry).forUser(user)])
        writer.close(conn, 1013, 'test');
      expect(await dropped).toMatchObject({ code: 1013, reconnecting: true });
      const missed = nextEvent<Message>(client, 'chat.message', (m) => m.text === 'while away');
      await peer.call('chat.send', { room, text: 'while away' });
      expect(await nextEvent(client, 'connected')).toMatchObject({ reconnected: true });
      expect((await missed).seq).toBe(3);
      await peer.close();
    },
  );

  it('sends with the refreshed token once the first one has expired', async () => {
    let issued = 0;
    const client = new sdk.HubbubClient(server.wsUrl, {
      getToken: () => (issued++, server.token('refresher', {}, 3)),
      transports: ['stream'],
    });
    clients.push(client);
    await client.connect();
    let drops = 0;
    client.on('disconnected', () => drops++);
    // A refresh about every second (3 s tokens): after the third, the first token is past its exp.
    for (let i = 0; i < 3; i++) await nextEvent(client, 'refreshed');
    expect(issued).toBeGreaterThanOrEqual(4);
    expect(await client.request('ping')).toEqual({ ts: expect.any(Number) });
    expect(client.transport).toBe('stream');
    expect(drops).toBe(0); // the same session all along: no send was refused for an expired token
  });

  it('keeps its session alive with pings every half heartbeat (the server drops silent clientPings sessions)', async () => {
    const quick = await startServer({ HEARTBEAT_INTERVAL_MS: '300' });
    try {
      const client = new sdk.HubbubClient(quick.wsUrl, {
        token: await quick.token('pinger'),
        transports: ['sse'],
      });
      clients.push(client);
      let drops = 0;
      client.on('disconnected', () => drops++);
      await client.connect();
      const router = quick.app.get(FrameRouter);
      // Six pings take three heartbeat sweeps, each of which would drop a session that sent nothing.
      await until(() => Promise.resolve(router.received >= 6), 'six pings', 10_000);
      expect(drops).toBe(0);
      expect(await client.request('ping')).toEqual({ ts: expect.any(Number) });
      client.close();
    } finally {
      await quick.close();
    }
  });

  it('reports a refused open with its status (401), without trying further', async () => {
    const client = new sdk.HubbubClient(server.wsUrl, { token: 'not-a-jwt', transports: ['sse'] });
    clients.push(client);
    await expect(client.connect()).rejects.toMatchObject({
      code: 'refused',
      details: { status: 401 },
    });
  });

  it('falls back to SSE when the WebSocket cannot connect', async () => {
    // A WebSocket class that fails at once, as one blocked by a proxy does.
    class BlockedWebSocket extends EventTarget {
      readyState = 0;
      onclose: ((ev: { code: number; reason: string }) => void) | null = null;
      constructor() {
        super();
        setTimeout(() => this.onclose?.({ code: 1006, reason: '' }), 10);
      }
      send(): void {}
      close(): void {}
    }
    const client = new sdk.HubbubClient(server.wsUrl, {
      token: await server.token('blocked'),
      WebSocket: BlockedWebSocket as unknown as typeof WebSocket,
      transports: ['websocket', 'sse', 'stream'],
    });
    clients.push(client);
    await client.connect();
    expect(client.transport).toBe('sse');
  });
});
