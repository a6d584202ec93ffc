import { PushService } from '../../src/fanout/push.service';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/** Sample name (with its labels, as printed) to value, from a Prometheus text exposition. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function scrape(server: TestServer): Promise<{ text: string; at: Map<string, number> }> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  return { text, at: samples(text) };
}

/** How much each sample grew between two scrapes (absent before: counted from 0). */
const grew = (before: Map<string, number>, after: Map<string, number>, name: string): number =>
  (after.get(name) ?? 0) - (before.get(name) ?? 0);

describe('GET /metrics through prom-client', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  const connect = async (user: string, on: TestServer = server) => {
    const client = await TestClient.connect(on.wsUrl, await on.token(user));
    clients.push(client);
    return client;
  };
  /**
   * A server of its own for a test that reads gauges or the fan-out histogram: the server side of a connection
   * closed by an earlier test may still be cleaning up (presence pushes, room index) while this one measures.
   */
  const isolated = async (test: (own: TestServer) => Promise<void>) => {
    const own = await startServer();
    try {
      await test(own);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await own.close();
    }
  };

  beforeAll(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server.close();
  });

  it('exposes the default process metrics: CPU, memory, heap, event-loop lag, GC', async () => {
    const { text } = await scrape(server);
    for (const [name, type] of [
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
      ['nodejs_gc_duration_seconds', 'histogram'],
    ])
      expect(text).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
    // Once, even with several servers in this process.
    expect(text.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);
  });

  it('declares every Hubbub series with its type from the first scrape', async () => {
    const fresh = await startServer();
    try {
      const { text, at } = await scrape(fresh);
      for (const [name, type] of [
        ['hubbub_connections', 'gauge'],
        ['hubbub_messages_received_total', 'counter'],
        ['hubbub_messages_sent_total', 'counter'],
        ['hubbub_errors_total', 'counter'],
        ['hubbub_request_duration_seconds', 'histogram'],
        ['hubbub_chat_append_duration_seconds', 'histogram'],
        ['hubbub_fanout_recipients', 'histogram'],
        ['hubbub_handshakes_total', 'counter'],
        ['hubbub_slow_consumer_closes_total', 'counter'],
        ['hubbub_rate_limit_closes_total', 'counter'],
        ['hubbub_webhook_attempts_total', 'counter'],
        ['hubbub_rooms', 'gauge'],
        ['hubbub_channels', 'gauge'],
      ])
        expect(text).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
      for (const result of ['accepted', 'unauthorized', 'forbidden', 'too_many_connections'])
        expect(at.get(`hubbub_handshakes_total{result="${result}"}`)).toBe(0);
      for (const outcome of ['delivered', 'rejected', 'failed'])
        expect(at.get(`hubbub_webhook_attempts_total{outcome="${outcome}"}`)).toBe(0);
      expect(at.get('hubbub_chat_append_duration_seconds_count')).toBe(0);
      expect(at.get('hubbub_fanout_recipients_count')).toBe(0);
      expect(at.get('hubbub_rooms')).toBe(0);
      expect(at.get('hubbub_channels')).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('times routed requests by event, and never makes a label of an event the client made up', async () => {
    const alice = await connect('alice');
    const { at: before } = await scrape(server);
    await alice.call('ping');
    await alice.call('ping');
    await alice.call('chat.join', { room: 'timed' });
    expect((await alice.request('no.such.event-x1')).data.code).toBe('unknown_event');
    const { text, at: after } = await scrape(server);
    expect(grew(before, after, 'hubbub_request_duration_seconds_count{event="ping"}')).toBe(2);
    expect(grew(before, after, 'hubbub_request_duration_seconds_count{event="chat.join"}')).toBe(1);
    expect(after.get('hubbub_request_duration_seconds_bucket{le="+Inf",event="ping"}')).toBe(
      after.get('hubbub_request_duration_seconds_count{event="ping"}'),
    );
    expect(after.get('hubbub_request_duration_seconds_sum{event="ping"}')).toBeGreaterThan(0);
    expect(text).not.toContain('no.such.event-x1');
  });

  it('times chat appends and measures fan-out by the recipients of each push', () =>
    isolated(async (own) => {
      const [ann, ben, cid] = [
        await connect('ann', own),
        await connect('ben', own),
        await connect('cid', own),
      ];
      await ann.call('chat.join', { room: 'fan-room' });
      await ben.call('chat.join', { room: 'fan-room' });
      await cid.call('chat.join', { room: 'fan-room' });
      // The presence pushes of those joins were counted when written, before these arrive.
      await ann.next('presence.join', 5000, (f) => f.data.member.userId === 'cid');
      await ben.next('presence.join', 5000, (f) => f.data.member.userId === 'cid');
      const { at: before } = await scrape(own);
      await ann.call('chat.send', { room: 'fan-room', text: 'to both' });
      await Promise.all([ben.next('chat.message'), cid.next('chat.message')]);
      const { text, at: after } = await scrape(own);
      expect(grew(before, after, 'hubbub_chat_append_duration_seconds_count')).toBe(1);
      expect(after.get('hubbub_chat_append_duration_seconds_sum')).toBeGreaterThan(0);
      // One push, to ben and cid (not to ann, who sent it).
      expect(grew(before, after, 'hubbub_fanout_recipients_count')).toBe(1);
      expect(grew(before, after, 'hubbub_fanout_recipients_sum')).toBe(2);
      expect(grew(before, after, 'hubbub_fanout_recipients_bucket{le="1"}')).toBe(0);
      expect(grew(before, after, 'hubbub_fanout_recipients_bucket{le="2"}')).toBe(1);
      expect(text).not.toContain('fan-room');
    }));

  it('counts handshakes by result', async () => {
    const { at: before } = await scrape(server);
    await connect('hs-user');
    const refused = await TestClient.connect(server.wsUrl, 'not-a-token').catch(
      (err: Error) => err.message,
    );
    expect(refused).toBe('HTTP 401');
    const { at: after } = await scrape(server);
    expect(grew(before, after, 'hubbub_handshakes_total{result="accepted"}')).toBe(1);
    expect(grew(before, after, 'hubbub_handshakes_total{result="unauthorized"}')).toBe(1);
  });

  it('gauges rooms and channels with local members, without naming them or their users', () =>
    isolated(async (own) => {
      const u = await connect('gauge-user-7', own);
      const v = await connect('gauge-user-8', own);
      await u.call('chat.join', { room: 'gauge-room-a' });
      await v.call('chat.join', { room: 'gauge-room-a' });
      await v.call('chat.join', { room: 'gauge-room-b' });
      await u.call('channel.subscribe', { channel: 'gauge-chan' });
      const { text, at: during } = await scrape(own);
      expect(during.get('hubbub_rooms')).toBe(2);
      expect(during.get('hubbub_channels')).toBe(1);
      expect(during.get('hubbub_connections')).toBe(2);
      expect(text).not.toMatch(/gauge-(room|chan|user)/);
      await u.call('chat.leave', { room: 'gauge-room-a' }); // v is still there
      await v.call('chat.leave', { room: 'gauge-room-b' });
      await u.call('channel.unsubscribe', { channel: 'gauge-chan' });
      const { at: after } = await scrape(own);
      expect(after.get('hubbub_rooms')).toBe(1);
      expect(after.get('hubbub_channels')).toBe(0);
    }));
});

describe('GET /metrics: closes for flooding and for slow consumers', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({
      RATE_LIMIT_PER_SEC: '1',
      RATE_LIMIT_BURST: '3',
      MAX_BUFFERED_BYTES: String(64 * 1024),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts a connection closed with 4429 for flooding, once', async () => {
    const { at: before } = await scrape(server);
    const client = await TestClient.connect(server.wsUrl, await server.token('flooder'));
    for (let i = 1; i <= 30; i++) client.send({ event: 'ping', id: i });
    expect(await client.waitClose()).toBe(4429);
    const { at: after } = await scrape(server);
    expect(grew(before, after, 'hubbub_rate_limit_closes_total')).toBe(1);
    expect(grew(before, after, 'hubbub_slow_consumer_closes_total')).toBe(0);
  });

  it('counts a connection closed with 1013 as a slow consumer, once', async () => {
    const { at: before } = await scrape(server);
    const client = await TestClient.connect(server.wsUrl, await server.token('slowpoke'));
    await client.call('channel.subscribe', { channel: 'firehose' });
    // Queued within one event-loop turn, before any flush: far more than MAX_BUFFERED_BYTES for this socket.
    const push = server.app.get(PushService);
    const chunk = 'x'.repeat(16 * 1024);
    await Promise.all(
      Array.from({ length: 16 }, () => push.toChannel('firehose', 'channel.message', chunk)),
    );
    expect(await client.waitClose(10_000)).toBe(1013);
    const { at: after } = await scrape(server);
    expect(grew(before, after, 'hubbub_slow_consumer_closes_total')).toBe(1);
    expect(grew(before, after, 'hubbub_rate_limit_closes_total')).toBe(0);
  });
});
