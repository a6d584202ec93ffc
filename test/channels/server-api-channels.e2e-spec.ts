/**
 * The server API's channel routes (CONTRACT section 7, "new: channel-access" and the channel list of
 * "dashboard-polish"): server-side subscribe/unsubscribe, pushes to a user, and channel reads, on one instance
 * and across instances.
 */
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import type { TestClient } from '../support/ws-client';

const API_KEY = 'server-api-channels-key';
const api = serverApi(API_KEY);

/** Publishes through the API and waits until each client got it. */
async function deliveredTo(server: TestServer, channel: string, clients: TestClient[]) {
  const { body } = await api(
    server,
    'POST',
    `/api/channels/${encodeURIComponent(channel)}/publish`,
    {
      data: 'probe',
    },
  );
  for (const c of clients) {
    await c.next(
      'channel.message',
      5000,
      (f) => f.data.channel === channel && f.data.offset === body.offset,
    );
  }
}

describe('server API: channels and user pushes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ API_KEY });
  });
  afterAll(() => server.close());
  const { connect } = trackedClients(() => server);

  it('POST /api/channels/:channel/subscribe subscribes every connection of the user, pushing channel.subscribed', async () => {
    const user = `u-${rid()}`;
    const channel = `private:feed-${rid()}`; // no claim needed: the server grants it
    const [phone, laptop] = [await connect(user), await connect(user)];
    const bystander = await connect(`o-${rid()}`);
    await api(server, 'POST', `/api/channels/${channel}/publish`, { data: 'before' });
    const res = await api(server, 'POST', `/api/channels/${channel}/subscribe`, { userId: user });
    expect(res.status).toBe(202);
    for (const c of [phone, laptop]) {
      expect((await c.next('channel.subscribed')).data).toEqual({
        channel,
        offset: 1,
        epoch: expect.any(String),
      });
    }
    await deliveredTo(server, channel, [phone, laptop]);
    const info = await api(server, 'GET', `/api/channels/${channel}`);
    expect(info.body).toEqual({
      channel,
      subscribers: 2,
      offset: 2,
      epoch: (phone.frames.find((f) => f.event === 'channel.subscribed')!.data as { epoch: string })
        .epoch,
    });
    const mark = bystander.frames.length;
    await expectNoPush(bystander, mark, 'channel.subscribed');
  });

  it('subscribing an already subscribed connection pushes nothing new', async () => {
    const user = `u-${rid()}`;
    const channel = `news.${rid()}`;
    const c = await connect(user);
    await c.call('channel.subscribe', { channel });
    const mark = c.frames.length;
    expect(
      (await api(server, 'POST', `/api/channels/${channel}/subscribe`, { userId: user })).status,
    ).toBe(202);
    await expectNoPush(c, mark, 'channel.subscribed');
    expect((await api(server, 'GET', `/api/channels/${channel}`)).body.subscribers).toBe(1);
  });

  it('POST /api/channels/:channel/unsubscribe removes it from every connection, pushing channel.unsubscribed {reason: "server"}', async () => {
    const user = `u-${rid()}`;
    const channel = `news.${rid()}`;
    const [a, b] = [await connect(user), await connect(user)];
    const other = await connect(`o-${rid()}`);
    for (const c of [a, b, other]) await c.call('channel.subscribe', { channel });
    const res = await api(server, 'POST', `/api/channels/${channel}/unsubscribe`, { userId: user });
    expect(res.status).toBe(202);
    for (const c of [a, b]) {
      expect((await c.next('channel.unsubscribed')).data).toEqual({ channel, reason: 'server' });
    }
    const marks = [a.frames.length, b.frames.length];
    await deliveredTo(server, channel, [other]);
    await expectNoPush(a, marks[0], 'channel.message');
    await expectNoPush(b, marks[1], 'channel.message');
    expect((await api(server, 'GET', `/api/channels/${channel}`)).body.subscribers).toBe(1);
  });

  it('POST /api/users/:userId/messages pushes user.message {data, from: "server"} to each of the user’s connections only', async () => {
    const user = `u-${rid()}`;
    const [a, b] = [await connect(user), await connect(user)];
    const other = await connect(`o-${rid()}`);
    const mark = other.frames.length;
    const data = { kind: 'notice', text: 'hello' };
    const res = await api(server, 'POST', `/api/users/${user}/messages`, { data });
    expect(res.status).toBe(202);
    for (const c of [a, b])
      expect((await c.next('user.message')).data).toEqual({ data, from: 'server' });
    await expectNoPush(other, mark, 'user.message');
  });

  it('GET /api/channels/:channel answers for a channel nobody uses, and for user-limited names', async () => {
    const channel = `quiet.${rid()}#alice`;
    const res = await api(server, 'GET', `/api/channels/${encodeURIComponent(channel)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ channel, subscribers: 0, offset: 0, epoch: expect.any(String) });
  });

  it('GET /api/channels lists channels with subscribers by name, filtered by prefix, paged with cursor', async () => {
    const prefix = `list-${rid()}.`;
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => prefix + n);
    const c1 = await connect(`u-${rid()}`);
    const c2 = await connect(`u-${rid()}`);
    for (const n of names) await c1.call('channel.subscribe', { channel: n });
    await c2.call('channel.subscribe', { channel: names[1] });
    await connect(`u-${rid()}`).then((c) =>
      c.call('channel.subscribe', { channel: `other-${rid()}` }),
    );

    const page1 = await api(server, 'GET', `/api/channels?prefix=${prefix}&limit=2`);
    expect(page1.body).toEqual({
      channels: [
        { channel: names[0], subscribers: 1 },
        { channel: names[1], subscribers: 2 },
      ],
      next: expect.any(String),
    });
    const page2 = await api(
      server,
      'GET',
      `/api/channels?prefix=${prefix}&limit=2&cursor=${page1.body.next}`,
    );
    expect(page2.body.channels.map((c: { channel: string }) => c.channel)).toEqual(
      names.slice(2, 4),
    );
    const page3 = await api(
      server,
      'GET',
      `/api/channels?prefix=${prefix}&limit=2&cursor=${page2.body.next}`,
    );
    expect(page3.body).toEqual({ channels: [{ channel: names[4], subscribers: 1 }] });

    await c1.close();
    await c2.call('channel.unsubscribe', { channel: names[1] });
    expect((await api(server, 'GET', `/api/channels?prefix=${prefix}`)).body).toEqual({
      channels: [],
    });
  });

  it.each([
    ['POST', '/api/channels/news/subscribe', {}],
    ['POST', '/api/channels/news/unsubscribe', { userId: '' }],
    ['POST', '/api/channels/bad%20name/subscribe', { userId: 'u' }],
    ['POST', '/api/users/u/messages', {}],
    ['GET', '/api/channels?limit=0', undefined],
    ['GET', '/api/channels/news%23', undefined],
  ] as const)('%s %s with a bad body or parameter answers 400', async (method, path, body) => {
    expect((await api(server, method, path, body)).status).toBe(400);
  });

  it.each([
    ['POST', '/api/channels/news/subscribe'],
    ['POST', '/api/channels/news/unsubscribe'],
    ['POST', '/api/users/u/messages'],
    ['GET', '/api/channels/news'],
    ['GET', '/api/channels'],
  ] as const)('%s %s needs the API key (401)', async (method, path) => {
    const body = method === 'POST' ? { userId: 'u', data: 1 } : undefined;
    expect((await api(server, method, path, body, null)).status).toBe(401);
  });
});

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;

gate.describe('server API channel routes across instances', () => {
  const servers: TestServer[] = [];
  const { connect } = trackedClients(() => servers[0]);

  beforeAll(async () => {
    const run = rid();
    for (const node of ['a', 'b']) {
      servers.push(
        await startServer({
          API_KEY,
          REDIS_URL: redis.url,
          DATABASE_URL: postgres.url,
          NODE_ID: `api-channels-${node}-${run}`,
        }),
      );
    }
  });
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('subscribe, unsubscribe and user messages reach the user’s connections on every instance', async () => {
    const user = `u-${rid()}`;
    const channel = `feed.${rid()}`;
    const [onA, onB] = [await connect(user, {}, servers[0]), await connect(user, {}, servers[1])];
    expect(
      (await api(servers[0], 'POST', `/api/channels/${channel}/subscribe`, { userId: user }))
        .status,
    ).toBe(202);
    const pushes = await Promise.all([onA, onB].map((c) => c.next('channel.subscribed')));
    expect(pushes[0].data).toEqual(pushes[1].data);
    await deliveredTo(servers[1], channel, [onA, onB]);

    await api(servers[1], 'POST', `/api/users/${user}/messages`, { data: 'both' });
    for (const c of [onA, onB])
      expect((await c.next('user.message')).data).toEqual({ data: 'both', from: 'server' });

    await api(servers[1], 'POST', `/api/channels/${channel}/unsubscribe`, { userId: user });
    for (const c of [onA, onB]) {
      expect((await c.next('channel.unsubscribed')).data).toEqual({ channel, reason: 'server' });
    }
  });

  it('GET /api/channels/:channel and GET /api/channels count subscribers on every instance', async () => {
    const prefix = `cl-${rid()}.`;
    const channel = `${prefix}x`;
    const onA = await connect(`u-${rid()}`, {}, servers[0]);
    const onB = await connect(`u-${rid()}`, {}, servers[1]);
    const { epoch } = await onA.call('channel.subscribe', { channel });
    await onB.call('channel.subscribe', { channel });
    await onB.call('channel.subscribe', { channel: `${prefix}y` });
    for (const target of servers) {
      expect((await api(target, 'GET', `/api/channels/${channel}`)).body).toEqual({
        channel,
        subscribers: 2,
        offset: 0,
        epoch,
      });
      expect((await api(target, 'GET', `/api/channels?prefix=${prefix}`)).body).toEqual({
        channels: [
          { channel, subscribers: 2 },
          { channel: `${prefix}y`, subscribers: 1 },
        ],
      });
    }
    await onB.close();
    // The count drops once the other instance has written it (absolute values, no event to await): poll.
    for (let i = 0; ; i++) {
      const { body } = await api(servers[0], 'GET', `/api/channels/${channel}`);
      if (body.subscribers === 1) break;
      if (i > 100) throw new Error(`subscribers stayed ${body.subscribers}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
