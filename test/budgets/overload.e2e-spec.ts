/**
 * Issue 19, point 7: overload as a state, not a crash. A child server with a small heap (--max-old-space-size) and
 * a low OVERLOAD_HEAP_RATIO is filled with retained channel publications: it refuses new handshakes (503) and joins
 * and history reads (`overloaded` with retryAfterMs), keeps serving what it holds, shows `hubbub_overloaded 1`, and
 * accepts again by itself once the publications have expired (no forced GC, no restart).
 */
import {
  buildServerOnce,
  removeBuild,
  spawnServer,
  type ChildServer,
} from '../support/child-server';
import { rid } from '../support/fixtures';
import { overloadedGauge, overloadedGaugeBecomes } from '../support/overload-gauge';
import { serverApi } from '../support/http';
import { signToken } from '../support/tokens';
import { handshakeStatus, TestClient } from '../support/ws-client';

const API_KEY = 'overload-api-key-0123456789abcdef0123';
const api = serverApi(API_KEY);
const CHUNK = 'o'.repeat(60_000);

describe('overload', () => {
  let server: ChildServer;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    await buildServerOnce();
    server = await spawnServer({
      NODE_OPTIONS: '--max-old-space-size=96',
      // heap_size_limit is about 288 MB with a 96 MB old space (V8 reserves the young generation on top): 0.17 of it
      // is about 49 MB, some 15 MB over the idle server's heap.
      OVERLOAD_HEAP_RATIO: '0.17',
      API_KEY,
      CHANNEL_HISTORY_SIZE: '10000',
      CHANNEL_HISTORY_TTL_MS: '30000',
      CHANNEL_HISTORY_MAX_BYTES: String(500 * 1024 * 1024),
      LOG_LEVEL: 'warn',
    });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    server.kill('SIGKILL');
    await server.waitForExit().catch(() => undefined);
    removeBuild();
  });

  it('refuses new work while the heap is over the ratio, serves what it holds, and accepts again after', async () => {
    expect(await overloadedGauge(server)).toBe(0);
    const held = await TestClient.connect(server.wsUrl, signToken('holder'));
    clients.push(held);
    const room = `r-${rid()}`;
    await held.call('chat.join', { room });

    // Fill the heap with retained publications (8 at a time) until the instance says it is overloaded.
    const channel = `fill-${rid()}`;
    const publish = async () =>
      (await api(server, 'POST', `/api/channels/${channel}/publish`, { data: CHUNK })).status;
    for (
      let batch = 0;
      batch < 100 && (batch % 4 !== 3 || (await overloadedGauge(server)) === 0);
      batch++
    ) {
      expect(await Promise.all(Array.from({ length: 8 }, publish))).toEqual(Array(8).fill(201));
    }
    await overloadedGaugeBecomes(server, 1, 10_000);

    expect(
      await handshakeStatus(server.wsUrl, { authorization: `Bearer ${signToken('late')}` }),
    ).toBe(503);
    for (const [event, data] of [
      ['chat.join', { room: `other-${rid()}` }],
      ['chat.history', { room }],
      ['channel.subscribe', { channel: `c-${rid()}` }],
    ] as const) {
      const refused = await held.request(event, data);
      expect(refused.event).toBe('error');
      expect(refused.data).toMatchObject({
        code: 'overloaded',
        details: { retryAfterMs: expect.any(Number) },
      });
    }
    // What it holds it serves: the held connection pings and sends in its room.
    expect((await held.request('ping')).event).toBe('pong');
    expect((await held.call('chat.send', { room, text: 'still here' })).message.text).toBe(
      'still here',
    );

    // The load leaves: the publications expire (30 s) and the idle channel is forgotten (within 10 s more). The
    // contract gives the instance 30 s from there to accept again.
    await overloadedGaugeBecomes(server, 0, 70_000);
    expect(
      await handshakeStatus(server.wsUrl, { authorization: `Bearer ${signToken('later')}` }),
    ).toBe(101);
    expect((await held.call('chat.join', { room: `after-${rid()}` })).messages).toEqual([]);
  }, 150_000);
});
