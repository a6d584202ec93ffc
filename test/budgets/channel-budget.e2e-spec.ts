/**
 * Issue 19, points 3 and 4. Publishing to a fresh channel name each time kept every publication for
 * CHANNEL_HISTORY_TTL_MS, with no total bound: CHANNEL_HISTORY_MAX_BYTES bounds all windows together, oldest first,
 * and a `since` that needed an evicted publication answers recovered false. In cluster mode, subscribing to (or
 * reading) a channel created its Redis stream hash with a 24 h TTL: reads now store nothing for the channel.
 */
import { Redis } from 'ioredis';
import { ChannelHistory } from '../../src/channels/history/channel-history';
import { MemoryChannelHistory } from '../../src/channels/history/memory-channel-history';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';

const API_KEY = 'channel-budget-api-key-0123456789abcdef';
const api = serverApi(API_KEY);
const DATA = 'd'.repeat(1000);

describe('CHANNEL_HISTORY_MAX_BYTES (memory mode)', () => {
  const MAX = 10_000;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ API_KEY, CHANNEL_HISTORY_MAX_BYTES: String(MAX) });
  });
  afterAll(() => server.close());
  const { connect } = trackedClients(() => server);

  it('holds at most the bound over fresh channel names, evicting the oldest, and says recovered false for them', async () => {
    const run = rid();
    const names = Array.from({ length: 40 }, (_, i) => `fresh-${run}-${i}`);
    for (const channel of names) {
      expect(
        (await api(server, 'POST', `/api/channels/${channel}/publish`, { data: DATA })).status,
      ).toBe(201);
    }
    const history = server.app.get<ChannelHistory, MemoryChannelHistory>(ChannelHistory);
    expect(history.retainedBytes()).toBeLessThanOrEqual(MAX);
    expect(history.retainedBytes()).toBeGreaterThan(MAX / 2);

    const client = await connect('reader', { subscribe: ['*'] });
    const from0 = async (channel: string) => {
      const { epoch } = await client.call('channel.subscribe', { channel });
      return client.call('channel.subscribe', { channel, since: 0, epoch });
    };
    expect(await from0(names[0])).toMatchObject({ offset: 1, recovered: false, publications: [] });
    const newest = await from0(names[names.length - 1]);
    expect(newest).toMatchObject({ offset: 1, recovered: true });
    expect(newest.publications).toHaveLength(1);
  });
});

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;

gate.describe('channel reads in cluster mode', () => {
  let server: TestServer;
  let scanner: Redis;
  beforeAll(async () => {
    scanner = new Redis(redis.url);
    server = await startServer({
      API_KEY,
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      NODE_ID: `channel-budget-${rid()}`,
      RATE_LIMIT_BURST: '1000',
    });
  });
  afterAll(async () => {
    await server.close();
    await scanner.quit();
  });
  const { connect } = trackedClients(() => server);

  /** Keys of this test's channels (their names carry the run id), wherever Hubbub put them. */
  const keysOf = (run: string): Promise<string[]> => scan(scanner, `*${run}*`);

  it('subscribing and GET /api/channels/:channel store nothing in Redis; the first publish does', async () => {
    const run = rid();
    const names = Array.from({ length: 20 }, (_, i) => `probe-${run}-${i}`);
    const client = await connect('prober');
    for (const channel of names) {
      const { epoch } = await client.call('channel.subscribe', { channel });
      await client.call('channel.subscribe', { channel, since: 0, epoch });
      expect((await api(server, 'GET', `/api/channels/${channel}`)).status).toBe(200);
    }
    for (const channel of names) await client.call('channel.unsubscribe', { channel });
    expect(await keysOf(run)).toEqual([]);

    // The first publish creates the stream. Its offset continues from the channel's floor slot, which channels of
    // other tests on this shared Redis may have raised: any positive offset, then one more per publication.
    const first = await api(server, 'POST', `/api/channels/${names[0]}/publish`, { data: 1 });
    expect(first.body).toEqual({ offset: expect.any(Number) });
    expect((await keysOf(run)).length).toBeGreaterThan(0);
    const second = await api(server, 'POST', `/api/channels/${names[0]}/publish`, { data: 2 });
    expect(second.body).toEqual({ offset: (first.body as { offset: number }).offset + 1 });
  });
});

async function scan(client: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
