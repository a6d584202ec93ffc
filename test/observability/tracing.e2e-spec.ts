import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Broker } from '../../src/broker/broker';
import { MemoryBroker } from '../../src/broker/memory-broker';
import { MessageStore } from '../../src/store/message-store';
import { Tracing } from '../../src/tracing/tracing.service';
import {
  buildServerOnce,
  removeBuild,
  spawnServer,
  type ChildServer,
} from '../support/child-server';
import { stopCluster } from '../support/cluster';
import { rid } from '../support/fixtures';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { handshakeStatus, TestClient } from '../support/ws-client';

/**
 * OpenTelemetry traces, exported by real server processes to an OTLP/HTTP receiver in this test process, the way
 * they reach a collector: spans of the handshake, the requests, the store, the broker and the webhooks, and one
 * trace for a message sent on one instance and fanned out on another through Redis.
 */
const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;
const run = rid();
/** The SDK exports every 50 ms instead of every 5 s, so that the receiver sees spans soon after they end. */
const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '50' };

// Span kinds as OTLP numbers them (the OTel API's SpanKind enum starts one lower).
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const named = (spans: ReceivedSpan[], name: string, where: (s: ReceivedSpan) => boolean) =>
  spans.find((s) => s.name === name && where(s));

gate.describe('traces across two instances', () => {
  const receiver = new OtlpReceiver();
  let a: ChildServer;
  let b: ChildServer;
  const clients: TestClient[] = [];
  const connect = async (node: ChildServer, sub: string, headers: Record<string, string> = {}) => {
    const client = await TestClient.connect(node.wsUrl, signToken(sub), { headers });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    await Promise.all([receiver.start(), buildServerOnce()]);
    [a, b] = await Promise.all(
      ['a', 'b'].map((name) =>
        spawnServer(
          {
            REDIS_URL: redis.url,
            DATABASE_URL: postgres.url,
            NODE_ID: `trace-${name}-${run}`,
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            LOG_LEVEL: 'warn',
            ...FAST_EXPORT,
          },
          50_000,
        ),
      ),
    );
  }, 120_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await stopCluster([a, b]);
    await receiver.stop();
    removeBuild();
  }, 30_000);

  it('makes a chat.send on one instance and its fan-out on the other one trace', async () => {
    const room = `traced-${run}`;
    const alice = await connect(a, 'alice');
    const bob = await connect(b, 'bob');
    await alice.call('chat.join', { room });
    await bob.call('chat.join', { room });
    const { message } = await alice.call('chat.send', { room, text: 'across' });
    expect((await bob.next('chat.message')).data).toEqual(message);

    const instanceA = `trace-a-${run}`;
    const instanceB = `trace-b-${run}`;
    const send = await receiver.waitFor((spans) =>
      named(spans, 'ws chat.send', (s) => s.instance === instanceA),
    );
    expect(send).toMatchObject({ service: 'hubbub', kind: SERVER });
    expect(send.attributes['hubbub.event']).toBe('chat.send');
    const inTrace = (s: ReceivedSpan) => s.traceId === send.traceId;
    const append = await receiver.waitFor((spans) =>
      named(spans, 'store append', (s) => inTrace(s) && s.parentSpanId === send.spanId),
    );
    expect(append.attributes['hubbub.room']).toBe(room);
    const publish = await receiver.waitFor((spans) =>
      named(
        spans,
        'broker publish',
        (s) => inTrace(s) && s.parentSpanId === send.spanId && s.instance === instanceA,
      ),
    );
    expect(publish.kind).toBe(PRODUCER);
    expect(publish.attributes['messaging.destination.name']).toBe(`room:${room}`);
    // The delivery on instance B is a child of A's publish: the traceparent travelled inside the Redis message.
    const remote = await receiver.waitFor((spans) =>
      named(spans, 'broker deliver', (s) => s.instance === instanceB && inTrace(s)),
    );
    expect(remote).toMatchObject({ parentSpanId: publish.spanId, kind: CONSUMER });
  });

  it('makes the handshake a span of the trace named by the upgrade request', async () => {
    const traceId = hex(16);
    const parentId = hex(8);
    await connect(a, 'carol', { traceparent: `00-${traceId}-${parentId}-01` });
    const handshake = await receiver.waitFor((spans) =>
      named(spans, 'ws handshake', (s) => s.traceId === traceId),
    );
    expect(handshake).toMatchObject({ parentSpanId: parentId, kind: SERVER });
    expect(handshake.status.code ?? 0).not.toBe(2);

    const refusedTrace = hex(16);
    const status = await handshakeStatus(a.wsUrl, {
      authorization: 'Bearer not-a-token',
      traceparent: `00-${refusedTrace}-${hex(8)}-01`,
    });
    expect(status).toBe(401);
    const refused = await receiver.waitFor((spans) =>
      named(spans, 'ws handshake', (s) => s.traceId === refusedTrace),
    );
    expect(refused.status.code).toBe(2); // ERROR
    expect(refused.attributes['http.response.status_code']).toBe(401);
  });

  it('records the error code a request ends with', async () => {
    const dave = await connect(b, 'dave');
    const reply = await dave.request('chat.send', { room: `never-joined-${run}`, text: 'x' });
    expect(reply.data.code).toBe('not_joined');
    const span = await receiver.waitFor((spans) =>
      named(
        spans,
        'ws chat.send',
        (s) => s.instance === `trace-b-${run}` && s.attributes['hubbub.error'] === 'not_joined',
      ),
    );
    expect(span.status.code).toBe(2);
  });
});

describe('webhook delivery spans', () => {
  const receiver = new OtlpReceiver();
  let hooks: Server;
  let node: ChildServer;

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    await receiver.start();
    node = await spawnServer({
      NODE_ID: `hooks-${run}`,
      WEBHOOK_URL: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/`,
      WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_SERVICE_NAME: 'hubbub-hooks',
      LOG_LEVEL: 'warn',
      ...FAST_EXPORT,
    });
  }, 60_000);

  afterAll(async () => {
    node?.kill('SIGTERM');
    await node?.waitForExit(15_000).catch(() => node.kill('SIGKILL'));
    hooks.closeAllConnections();
    await new Promise((resolve) => hooks.close(resolve));
    await receiver.stop();
    removeBuild();
  }, 30_000);

  it('makes each delivery attempt a span, under the configured service name', async () => {
    const client = await TestClient.connect(node.wsUrl, signToken('erin'));
    await client.call('chat.join', { room: `hooked-${run}` });
    const span = await receiver.waitFor((spans) =>
      named(
        spans,
        'webhook deliver',
        (s) => s.attributes['hubbub.webhook.type'] === 'room.occupied',
      ),
    );
    expect(span).toMatchObject({ service: 'hubbub-hooks', instance: `hooks-${run}` });
    expect(span.attributes['hubbub.webhook.attempt']).toBe(1);
    await client.close();
  });
});

describe('tracing off (no OTLP endpoint)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('leaves the broker and the store unwrapped: nothing of tracing on the hot path', () => {
    expect(server.app.get(Tracing).enabled).toBe(false);
    expect(server.app.get(Broker)).toBeInstanceOf(MemoryBroker);
    const store = server.app.get(MessageStore);
    expect(Object.prototype.hasOwnProperty.call(store, 'append')).toBe(false);
  });

  it('does not even load the OpenTelemetry SDK', () => {
    const loaded = Object.keys(require.cache).filter((path) =>
      /@opentelemetry[\\/](sdk-node|exporter-trace-otlp-http)[\\/]/.test(path),
    );
    expect(loaded).toEqual([]);
  });
});
