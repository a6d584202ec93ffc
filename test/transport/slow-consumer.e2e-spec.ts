import type { Socket } from 'node:net';
import { ClientRegistry } from '../../src/ws/client-registry.service';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/** A connection that stops reading while pushes pile up is closed with 1013 once MAX_BUFFERED_BYTES is queued. */
describe('slow consumers', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({
      MAX_BUFFERED_BYTES: String(256 * 1024),
      RATE_LIMIT_PER_SEC: '10000',
      RATE_LIMIT_BURST: '10000',
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const rawSocket = (client: TestClient): Socket =>
    (client.ws as unknown as { _socket: Socket })._socket;

  async function flood(
    publisher: TestClient,
    channel: string,
    until: () => boolean,
  ): Promise<void> {
    const chunk = 'x'.repeat(32 * 1024);
    // Bounded: at most 64 MB of pushes, far past the kernel's socket buffers on loopback.
    for (let i = 0; i < 2000 && !until(); i++) {
      await publisher.call('channel.publish', { channel, data: chunk });
    }
  }

  /**
   * Subscribes `subscriberId` to `channel`, pauses its socket so that it reads nothing, and has an admin
   * publisher flood the channel until the server closes the subscriber's connection.
   */
  async function floodPausedSubscriber(subscriberId: string, publisherId: string, channel: string) {
    const publisher = await TestClient.connect(
      server.wsUrl,
      await server.token(publisherId, { roles: ['admin'] }),
    );
    const subscriber = await TestClient.connect(server.wsUrl, await server.token(subscriberId));
    await subscriber.call('channel.subscribe', { channel });
    const registry = server.app.get(ClientRegistry);
    const conn = [...registry.forUser(subscriberId)][0];

    rawSocket(subscriber).pause();
    await flood(publisher, channel, () => conn.closed);
    return { publisher, subscriber, registry, conn };
  }

  it('closes a connection that reads nothing with 1013 after the frames already queued', async () => {
    const {
      publisher,
      subscriber: slow,
      conn: slowConn,
    } = await floodPausedSubscriber('slow', 'pub', 'firehose');
    expect(slowConn.closed).toBe(true);

    // Reading again, the client gets the pushes queued before the close, then the close frame.
    rawSocket(slow).resume();
    expect(await slow.waitClose(10_000)).toBe(1013);
    expect(slow.frames.filter((f) => f.event === 'channel.message').length).toBeGreaterThan(0);
    // The publisher is unaffected.
    expect((await publisher.request('ping')).event).toBe('pong');
    await publisher.close();
  }, 30_000);

  it('cuts off a slow consumer that still reads nothing 5 s after its close frame', async () => {
    const {
      publisher,
      subscriber: stuck,
      registry,
      conn,
    } = await floodPausedSubscriber('stuck', 'pub2', 'firehose2');
    const closedAt = Date.now();
    // No event reaches a client that does not read: watch the server side let go of the socket.
    await new Promise<void>((resolve) => conn.socket.once('close', () => resolve()));
    const elapsed = Date.now() - closedAt;
    expect(elapsed).toBeGreaterThanOrEqual(4500);
    expect(elapsed).toBeLessThan(8000);
    expect(registry.forUser('stuck').size).toBe(0);
    stuck.ws.terminate();
    await publisher.close();
  }, 30_000);
});
