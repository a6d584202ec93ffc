/**
 * Epochs (CONTRACT section 5, channel.subscribe): offsets that restart (a restart in memory mode, Redis losing the
 * stream in cluster mode) come with a new epoch, so an old `since` that would look recoverable by its number is
 * answered `recovered: false` instead of silently skipping the new stream's publications.
 */
import { Redis } from 'ioredis';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import type { TestClient } from '../support/ws-client';

const API_KEY = 'epochs-test-key';
const api = serverApi(API_KEY);

/** Publishes `n` messages and returns their offsets. */
async function publishN(p: TestClient, channel: string, n: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = 0; i < n; i++)
    offsets.push((await p.call('channel.publish', { channel, data: i })).offset as number);
  return offsets;
}

/**
 * Subscribes with a position from the stream `oldEpoch` (offset 1, which looks recoverable) to a channel whose
 * stream restarted and holds offsets 1..3: the answer is the new stream, nothing recovered. Returns the reply.
 */
async function expectNewStream(client: TestClient, channel: string, oldEpoch: string) {
  const reply = await client.call('channel.subscribe', { channel, since: 1, epoch: oldEpoch });
  expect(reply).toEqual({
    channel,
    offset: 3,
    epoch: expect.any(String),
    recovered: false,
    publications: [],
  });
  expect(reply.epoch).not.toBe(oldEpoch);
  return reply as { epoch: string };
}

describe('channel epochs in memory mode', () => {
  const servers: TestServer[] = [];
  let current: TestServer;
  const { connect } = trackedClients(() => current);
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  const boot = async () => {
    current = await startServer({ API_KEY });
    servers.push(current);
    return current;
  };

  it('the subscribe reply names the epoch; the same server keeps it and recovers a position in it', async () => {
    await boot();
    const channel = `news.${rid()}`;
    const first = await connect(`u-${rid()}`);
    const { epoch } = await first.call('channel.subscribe', { channel });
    expect(epoch).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    const p = await connect(`p-${rid()}`, { publish: ['*'] });
    await publishN(p, channel, 3);
    const again = await connect(`u-${rid()}`);
    expect(await again.call('channel.subscribe', { channel, since: 1, epoch })).toMatchObject({
      offset: 3,
      epoch,
      recovered: true,
      publications: [{ offset: 2 }, { offset: 3 }],
    });
    const other = await again.call('channel.subscribe', { channel: `${channel}.other` });
    expect(other.epoch).not.toBe(epoch);
  });

  it('after a restart an old since that looks recoverable gets recovered false and no publications', async () => {
    const before = await boot();
    const channel = `news.${rid()}`;
    const p1 = await connect(`p-${rid()}`, { publish: ['*'] });
    await publishN(p1, channel, 3);
    const reader = await connect(`u-${rid()}`);
    const { epoch: oldEpoch } = await reader.call('channel.subscribe', { channel });
    await reader.close();
    await p1.close();
    await before.close();
    servers.splice(servers.indexOf(before), 1);

    await boot(); // a new process: offsets start again at 1
    const p2 = await connect(`p-${rid()}`, { publish: ['*'] });
    expect(await publishN(p2, channel, 3)).toEqual([1, 2, 3]);
    const back = await connect(`u-${rid()}`);
    const reply = await expectNewStream(back, channel, oldEpoch);
    const info = await api(current, 'GET', `/api/channels/${channel}`);
    expect(info.body).toMatchObject({ offset: 3, epoch: reply.epoch });
  });

  it('a since without its epoch is validation_failed and changes nothing', async () => {
    await boot();
    const c = await connect(`u-${rid()}`);
    const channel = `news.${rid()}`;
    const reply = await c.request('channel.subscribe', { channel, since: 0 });
    expect(reply.data).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'epoch', errors: expect.any(Array) }],
    });
    const info = await api(current, 'GET', `/api/channels/${channel}`);
    expect(info.body.subscribers).toBe(0);
  });
});

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;

gate.describe('channel epochs in cluster mode', () => {
  // A database of its own on the test Redis, so flushing it touches no other test.
  const url = new URL(redis.url);
  url.pathname = '/11';
  const servers: TestServer[] = [];
  let flusher: Redis;
  const { connect } = trackedClients(() => servers[0]);

  beforeAll(async () => {
    flusher = new Redis(url.toString());
    await flusher.flushdb();
    const run = rid();
    for (const node of ['a', 'b']) {
      servers.push(
        await startServer({
          API_KEY,
          REDIS_URL: url.toString(),
          DATABASE_URL: postgres.url,
          NODE_ID: `epochs-${node}-${run}`,
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await flusher.flushdb();
    await flusher.quit();
  });

  it('instances share one epoch per channel, and a position taken on one recovers on the other', async () => {
    const channel = `feed.${rid()}`;
    const onA = await connect(`u-${rid()}`, {}, servers[0]);
    const onB = await connect(`u-${rid()}`, {}, servers[1]);
    const { epoch } = await onA.call('channel.subscribe', { channel });
    expect((await onB.call('channel.subscribe', { channel })).epoch).toBe(epoch);
    const p = await connect(`p-${rid()}`, { publish: ['*'] }, servers[0]);
    await publishN(p, channel, 3);
    const back = await connect(`u-${rid()}`, {}, servers[1]);
    expect(await back.call('channel.subscribe', { channel, since: 1, epoch })).toMatchObject({
      epoch,
      recovered: true,
      publications: [{ offset: 2 }, { offset: 3 }],
    });
  });

  it('Redis flushed: offsets restart with a new epoch, and an old since that looks recoverable gets recovered false', async () => {
    const channel = `feed.${rid()}`;
    const p = await connect(`p-${rid()}`, { publish: ['*'] }, servers[0]);
    await publishN(p, channel, 3);
    const reader = await connect(`u-${rid()}`, {}, servers[1]);
    const { epoch: oldEpoch, offset } = await reader.call('channel.subscribe', { channel });
    expect(offset).toBe(3);

    await flusher.flushdb(); // Redis lost everything
    expect(await publishN(p, channel, 3)).toEqual([1, 2, 3]);

    const back = await connect(`u-${rid()}`, {}, servers[1]);
    const reply = await expectNewStream(back, channel, oldEpoch);
    // Both instances see the new stream.
    const info = await api(servers[0], 'GET', `/api/channels/${channel}`);
    expect(info.body).toMatchObject({ channel, offset: 3, epoch: reply.epoch });
  });
});
