/**
 * Issue 18, point 4: every Redis pub/sub connection is probed (a message to itself through it each
 * HEARTBEAT_INTERVAL_MS). One that stops delivering is rebuilt and resubscribed, with /health/ready 503 until it
 * delivers again. Two faults, on a redis-server of the test's own: the server kills the subscriber connection
 * (`CLIENT KILL TYPE pubsub`), and a TCP proxy between an instance and Redis silently drops the subscriber's traffic
 * (the connection stays open: only a probe can tell).
 */
import type { ChildProcess } from 'node:child_process';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { freePort } from '../support/child-server';
import { rid } from '../support/fixtures';
import {
  redisBinaryGate,
  startEphemeralRedis,
  stopProcess,
  until,
} from '../support/redis-processes';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import { TestClient } from '../support/ws-client';

const postgres = servicesGate('postgres');
const gate = redisBinaryGate(postgres, 'the Redis pub/sub probe tests');
const HEARTBEAT_MS = 300;

/** A TCP proxy in front of Redis that can silently drop the traffic of the subscriber connections it carries. */
class DroppingProxy {
  private readonly server: Server;
  private readonly links: { client: Socket; subscriber: boolean; dropped: boolean }[] = [];
  port = 0;

  constructor(private readonly upstreamPort: number) {
    this.server = createServer((client) => {
      const upstream = tcpConnect(upstreamPort, '127.0.0.1');
      const link = { client, subscriber: false, dropped: false };
      this.links.push(link);
      client.on('data', (chunk: Buffer) => {
        if (/subscribe/i.test(chunk.toString('latin1'))) link.subscriber = true;
        if (!link.dropped) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!link.dropped) client.write(chunk);
      });
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        s.on('error', end);
        s.on('close', end);
      }
    });
  }

  async listen(): Promise<void> {
    this.port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  /** From now on, the subscriber connections open now neither send nor receive a byte, and stay open. */
  dropSubscribers(): number {
    const subs = this.links.filter((l) => l.subscriber && !l.client.destroyed);
    for (const link of subs) link.dropped = true;
    return subs.length;
  }

  close(): Promise<void> {
    for (const link of this.links) link.client.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function readiness(server: TestServer, expected: number): Promise<void> {
  // Readiness has no event to await: poll it.
  return until(
    async () => (await fetch(`${server.url}/health/ready`)).status === expected,
    `${server.url}/health/ready to answer ${expected}`,
    15_000,
  );
}

/** Publishes on `publisher` until `subscriber` receives one of those messages (each waited for briefly). */
async function deliveredAgain(
  publisher: TestClient,
  subscriber: TestClient,
  channel: string,
  tries = 40,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const mark = `again-${i}`;
    await publisher.call('channel.publish', { channel, data: mark });
    try {
      await subscriber.next('channel.message', 500, (f) => f.data?.data === mark);
      return;
    } catch {
      // not delivered: the subscription is not back yet
    }
  }
  throw new Error(`no delivery on ${channel} after ${tries} publishes`);
}

gate.describe('Redis pub/sub connections are probed', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let proxy: DroppingProxy;
  let a: TestServer; // through the proxy
  let b: TestServer; // straight to Redis
  const clients: TestClient[] = [];
  const run = rid();

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startEphemeralRedis(redisPort);
    proxy = new DroppingProxy(redisPort);
    await proxy.listen();
    const env = {
      DATABASE_URL: postgres.url,
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    };
    a = await startServer({
      ...env,
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      NODE_ID: `probe-a-${run}`,
    });
    b = await startServer({
      ...env,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      NODE_ID: `probe-b-${run}`,
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await a?.close();
    await b?.close();
    await proxy?.close();
    await stopProcess(redis);
  }, 30_000);

  async function pair(channel: string): Promise<{ onA: TestClient; onB: TestClient }> {
    const onA = await TestClient.connect(a.wsUrl, await a.token(`sub-${rid()}`));
    const onB = await TestClient.connect(
      b.wsUrl,
      await b.token(`pub-${rid()}`, { publish: ['*'] }),
    );
    clients.push(onA, onB);
    await onA.call('channel.subscribe', { channel });
    await deliveredAgain(onB, onA, channel);
    return { onA, onB };
  }

  it('CLIENT KILL TYPE pubsub: the subscription comes back and delivers', async () => {
    const channel = `kill-${run}`;
    const { onA, onB } = await pair(channel);
    const admin = new Redis(redisPort, '127.0.0.1', { lazyConnect: true });
    try {
      await admin.connect();
      expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThanOrEqual(
        2,
      );
    } finally {
      admin.disconnect();
    }
    await deliveredAgain(onB, onA, channel);
    await readiness(a, 200);
    await readiness(b, 200);
  });

  it('a proxy that silently drops the subscriber: readiness 503 until it is rebuilt, then delivery resumes', async () => {
    const channel = `drop-${run}`;
    const { onA, onB } = await pair(channel);
    expect(proxy.dropSubscribers()).toBe(1);
    await readiness(a, 503);
    await readiness(a, 200);
    await deliveredAgain(onB, onA, channel);
    // The other instance, straight to Redis, was never affected.
    expect((await fetch(`${b.url}/health/ready`)).status).toBe(200);
  });
});
