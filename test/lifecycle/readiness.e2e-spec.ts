import { rid } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { startServer, type TestServer } from '../support/server';
import { TcpProxy } from '../support/tcp-proxy';
import { TestClient } from '../support/ws-client';

/**
 * Readiness follows the store: the server reaches PostgreSQL through a TCP relay that the test cuts and
 * restores. While PostgreSQL does not answer, /health/ready is 503 and nothing is acknowledged that is not stored.
 */
const postgres = servicesGate('postgres');

async function readiness(server: TestServer): Promise<number> {
  return (await fetch(`${server.url}/health/ready`)).status;
}

postgres.describe('readiness follows the message store', () => {
  let relay: TcpProxy;
  let server: TestServer;

  beforeAll(async () => {
    const target = new URL(postgres.url);
    relay = await TcpProxy.start(Number(target.port || 5432), target.hostname);
    const viaRelay = new URL(postgres.url);
    viaRelay.port = String(relay.port);
    server = await startServer({ DATABASE_URL: viaRelay.toString() });
  });

  afterAll(async () => {
    await server.close();
    // The relay's listener would keep jest's process alive after the run.
    await relay.close();
  });

  it('answers 503 while PostgreSQL is unreachable and 200 again once it answers', async () => {
    const room = `ready-${rid()}`;
    const client = await TestClient.connect(server.wsUrl, await server.token('alice'));
    await client.call('chat.join', { room });
    expect(await readiness(server)).toBe(200);

    // Breaks the open connections and refuses new ones, like a database that went away.
    relay.cut();
    expect(await readiness(server)).toBe(503);
    const refused = await client.request('chat.send', { room, text: 'not stored' });
    expect(refused.event).toBe('error');
    expect(refused.data.code).toBe('internal');

    relay.restore();
    expect(await readiness(server)).toBe(200);
    const stored = await client.call('chat.send', { room, text: 'stored' });
    const history = await client.call('chat.history', { room });
    expect(history.messages).toEqual([stored.message]);
    expect(stored.message.seq).toBe(1);
    await client.close();
  });
});
