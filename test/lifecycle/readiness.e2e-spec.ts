import { createServer, Socket, type Server } from 'node:net';
import { freePort } from '../support/child-server';
import { rid } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * Readiness follows the store: the server reaches PostgreSQL through a TCP relay that the test cuts and
 * restores. While PostgreSQL does not answer, /health/ready is 503 and nothing is acknowledged that is not stored.
 */
const postgres = servicesGate('postgres');

class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  start(): Promise<void> {
    this.server = createServer((inbound) => {
      const outbound = new Socket();
      outbound.connect(this.target.port, this.target.host);
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    return new Promise((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
  }

  /** Refuses new connections and breaks the open ones, like a database that went away. */
  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

async function readiness(server: TestServer): Promise<number> {
  return (await fetch(`${server.url}/health/ready`)).status;
}

postgres.describe('readiness follows the message store', () => {
  let relay: Relay;
  let server: TestServer;

  beforeAll(async () => {
    const target = new URL(postgres.url);
    relay = new Relay(await freePort(), {
      host: target.hostname,
      port: Number(target.port || 5432),
    });
    await relay.start();
    const viaRelay = new URL(postgres.url);
    viaRelay.port = String(relay.port);
    server = await startServer({ DATABASE_URL: viaRelay.toString() });
  });

  afterAll(async () => {
    await server.close();
    // The relay's listener would keep jest's process alive after the run.
    await relay.stop();
  });

  it('answers 503 while PostgreSQL is unreachable and 200 again once it answers', async () => {
    const room = `ready-${rid()}`;
    const client = await TestClient.connect(server.wsUrl, await server.token('alice'));
    await client.call('chat.join', { room });
    expect(await readiness(server)).toBe(200);

    await relay.stop();
    expect(await readiness(server)).toBe(503);
    const refused = await client.request('chat.send', { room, text: 'not stored' });
    expect(refused.event).toBe('error');
    expect(refused.data.code).toBe('internal');

    await relay.start();
    expect(await readiness(server)).toBe(200);
    const stored = await client.call('chat.send', { room, text: 'stored' });
    const history = await client.call('chat.history', { room });
    expect(history.messages).toEqual([stored.message]);
    expect(stored.message.seq).toBe(1);
    await client.close();
  });
});
