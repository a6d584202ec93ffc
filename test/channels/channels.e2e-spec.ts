/**
 * Channels end to end (docs/protocol.md: "Channels", delivery guarantees, the server API's publish):
 * live pub/sub with a recovery window, over real sockets against a real server.
 */
import { expectNoPush, trackedClients } from '../support/clients';
import { publication, rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import type { TestClient } from '../support/ws-client';

const API_KEY = 'channels-test-api-key';
const api = serverApi(API_KEY);

describe('channels', () => {
  let server: TestServer;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    server = await startServer({ API_KEY });
  });
  afterAll(async () => {
    await Promise.all([server, ...servers].map((s) => s?.close()));
  });

  const { connect } = trackedClients(() => server);

  const publisher = (target: TestServer = server): Promise<TestClient> =>
    connect(`pub-${rid()}`, { publish: ['*'] }, target);

  describe('channel.subscribe', () => {
    it('replies {channel, offset: 0, recovered: true, publications: []} for a channel never published to', async () => {
      const channel = `chan-${rid()}`;
      const c = await connect(`sub-${rid()}`);
      expect(await c.call('channel.subscribe', { channel })).toEqual({
        channel,
        offset: 0,
        epoch: expect.any(String),
        recovered: true,
        publications: [],
      });
    });

    it('replies with the current offset and nothing to replay when subscribing without since', async () => {
      const channel = `chan-${rid()}`;
      const p = await publisher();
      await p.call('channel.publish', { channel, data: 1 });
      await p.call('channel.publish', { channel, data: 2 });
      const c = await connect(`sub-${rid()}`);
      expect(await c.call('channel.subscribe', { channel })).toEqual({
        channel,
        offset: 2,
        epoch: expect.any(String),
        recovered: true,
        publications: [],
      });
    });

    it.each([
      ['an invalid channel name', { channel: 'bad channel' }, 'channel'],
      ['a negative since', { channel: 'ok', since: -1, epoch: 'e' }, 'since'],
      ['a fractional since', { channel: 'ok', since: 1.5, epoch: 'e' }, 'since'],
      ['a since without its epoch', { channel: 'ok', since: 1 }, 'epoch'],
      ['an epoch that is not a string', { channel: 'ok', since: 1, epoch: 7 }, 'epoch'],
    ])('refuses %s as validation_failed', async (_what, data, field) => {
      const c = await connect(`sub-${rid()}`);
      const reply = await c.request('channel.subscribe', data);
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('validation_failed');
      expect(reply.data.details).toEqual([{ field, errors: expect.any(Array) }]);
    });
  });

  describe('channel.publish', () => {
    it('is forbidden without a publish glob or the admin role', async () => {
      const channel = `news.${rid()}`;
      const c = await connect(`user-${rid()}`);
      const reply = await c.request('channel.publish', { channel, data: 'x' });
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('forbidden');
    });

    it('is forbidden when no publish glob matches the channel', async () => {
      const c = await connect(`user-${rid()}`, { publish: ['news.*'] });
      const reply = await c.request('channel.publish', { channel: `sports.${rid()}`, data: 'x' });
      expect(reply.data.code).toBe('forbidden');
    });

    it('is allowed by a matching publish glob and replies {offset} counting 1, 2, 3', async () => {
      const channel = `news.${rid()}`;
      const c = await connect(`user-${rid()}`, { publish: ['news.*'] });
      expect(await c.call('channel.publish', { channel, data: { n: 1 } })).toEqual({ offset: 1 });
      expect(await c.call('channel.publish', { channel, data: { n: 2 } })).toEqual({ offset: 2 });
      expect(await c.call('channel.publish', { channel, data: { n: 3 } })).toEqual({ offset: 3 });
      // Offsets are per channel.
      expect(await c.call('channel.publish', { channel: `news.${rid()}`, data: 0 })).toEqual({
        offset: 1,
      });
    });

    it('is allowed anywhere for the admin role', async () => {
      const c = await connect(`admin-${rid()}`, { roles: ['admin'] });
      expect(
        await c.call('channel.publish', { channel: `anything-${rid()}`, data: false }),
      ).toEqual({
        offset: 1,
      });
    });

    it('does not need the publisher to be subscribed', async () => {
      const channel = `news.${rid()}`;
      const s = await connect(`sub-${rid()}`);
      await s.call('channel.subscribe', { channel });
      const p = await publisher();
      await p.call('channel.publish', { channel, data: 'hello' });
      expect((await s.next('channel.message')).data).toMatchObject({ channel, data: 'hello' });
    });

    it('refuses a publish without data as validation_failed', async () => {
      const p = await publisher();
      const reply = await p.request('channel.publish', { channel: `c-${rid()}` });
      expect(reply.data.code).toBe('validation_failed');
      expect(reply.data.details).toEqual([{ field: 'data', errors: expect.any(Array) }]);
    });

    it("pushes channel.message {channel, offset, data, userId, ts} to the other subscribers, not to the publisher's connection", async () => {
      const channel = `news.${rid()}`;
      const pubUser = `pub-${rid()}`;
      const p = await connect(pubUser, { publish: ['news.*'] });
      const pOtherDevice = await connect(pubUser);
      const s1 = await connect(`sub1-${rid()}`);
      const s2 = await connect(`sub2-${rid()}`);
      const notSubscribed = await connect(`lurker-${rid()}`);
      for (const c of [p, pOtherDevice, s1, s2]) await c.call('channel.subscribe', { channel });

      const marks = [p, notSubscribed].map((c) => c.frames.length);
      const before = Date.now();
      const { offset } = await p.call('channel.publish', {
        channel,
        data: { text: 'breaking', n: [1, 2] },
      });
      const pushes = await Promise.all(
        [s1, s2, pOtherDevice].map((c) => c.next('channel.message')),
      );
      for (const push of pushes) {
        expect(push.data).toEqual(
          publication({ channel, offset, data: { text: 'breaking', n: [1, 2] }, userId: pubUser }),
        );
        expect(push.data.ts).toBeGreaterThanOrEqual(before - 1000);
      }
      await expectNoPush(p, marks[0], 'channel.message');
      await expectNoPush(notSubscribed, marks[1], 'channel.message');
    });

    it('delivers publications to a subscriber in offset order', async () => {
      const channel = `news.${rid()}`;
      const s = await connect(`sub-${rid()}`);
      await s.call('channel.subscribe', { channel });
      const p = await publisher();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => p.call('channel.publish', { channel, data: i })),
      );
      const got: number[] = [];
      for (let i = 0; i < 20; i++)
        got.push((await s.next('channel.message')).data.offset as number);
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });
  });

  describe('channel.unsubscribe', () => {
    it('replies {channel} and stops the pushes', async () => {
      const channel = `news.${rid()}`;
      const s = await connect(`sub-${rid()}`);
      const p = await publisher();
      await s.call('channel.subscribe', { channel });
      await p.call('channel.publish', { channel, data: 'seen' });
      expect((await s.next('channel.message')).data.data).toBe('seen');

      expect(await s.call('channel.unsubscribe', { channel })).toEqual({ channel });
      const mark = s.frames.length;
      await p.call('channel.publish', { channel, data: 'unseen' });
      await expectNoPush(s, mark, 'channel.message');
    });

    it('replies {channel} for a channel the connection was not subscribed to', async () => {
      const channel = `news.${rid()}`;
      const s = await connect(`sub-${rid()}`);
      expect(await s.call('channel.unsubscribe', { channel })).toEqual({ channel });
    });
  });

  describe('recovery', () => {
    /** Subscribes, sees one publication, disconnects, then `missed` publications happen. Returns the last seen offset. */
    async function missSome(
      target: TestServer,
      channel: string,
      missed: number,
    ): Promise<{ since: number; epoch: string }> {
      const p = await publisher(target);
      const s = await connect(`sub-${rid()}`, {}, target);
      const { epoch } = await s.call('channel.subscribe', { channel });
      await p.call('channel.publish', { channel, data: 'seen' });
      const seen = (await s.next('channel.message')).data.offset as number;
      await s.close();
      for (let i = 1; i <= missed; i++)
        await p.call('channel.publish', { channel, data: `missed-${i}` });
      return { since: seen, epoch };
    }

    it('a subscriber that reconnects with since = its last offset gets exactly the missed publications, recovered true', async () => {
      const channel = `news.${rid()}`;
      const { since, epoch } = await missSome(server, channel, 3);
      const again = await connect(`sub-${rid()}`);
      const reply = await again.call('channel.subscribe', { channel, since, epoch });
      expect(reply).toEqual({
        channel,
        offset: since + 3,
        epoch,
        recovered: true,
        publications: [1, 2, 3].map((i) =>
          publication({
            channel,
            offset: since + i,
            data: `missed-${i}`,
            userId: expect.any(String),
          }),
        ),
      });
      // And it is live again.
      const p = await publisher();
      await p.call('channel.publish', { channel, data: 'live' });
      expect((await again.next('channel.message')).data).toMatchObject({
        offset: since + 4,
        data: 'live',
      });
    });

    it('since equal to the current offset recovers with nothing to replay', async () => {
      const channel = `news.${rid()}`;
      const { since, epoch } = await missSome(server, channel, 0);
      const again = await connect(`sub-${rid()}`);
      expect(await again.call('channel.subscribe', { channel, since, epoch })).toEqual({
        channel,
        offset: since,
        epoch,
        recovered: true,
        publications: [],
      });
    });

    it('since ahead of the channel offset (an unknown stream) answers recovered false', async () => {
      const channel = `news.${rid()}`;
      const c = await connect(`sub-${rid()}`);
      const { epoch } = await c.call('channel.subscribe', { channel });
      expect(await c.call('channel.subscribe', { channel, since: 5, epoch })).toMatchObject({
        channel,
        offset: 0,
        recovered: false,
        publications: [],
      });
    });

    it('with CHANNEL_HISTORY_SIZE=2, missing 3 publications answers recovered false', async () => {
      const small = await startServer({ CHANNEL_HISTORY_SIZE: '2' });
      servers.push(small);
      const channel = `news.${rid()}`;
      const { since, epoch } = await missSome(small, channel, 3);
      const again = await connect(`sub-${rid()}`, {}, small);
      const reply = await again.call('channel.subscribe', { channel, since, epoch });
      expect(reply.recovered).toBe(false);
      expect(reply.offset).toBe(since + 3);
      // What is still retained comes along, after since.
      expect(reply.publications.map((p: { offset: number }) => p.offset)).toEqual([
        since + 2,
        since + 3,
      ]);

      // Missing exactly the window size still recovers.
      const channel2 = `news.${rid()}`;
      const { since: since2, epoch: epoch2 } = await missSome(small, channel2, 2);
      const again2 = await connect(`sub-${rid()}`, {}, small);
      expect(
        await again2.call('channel.subscribe', { channel: channel2, since: since2, epoch: epoch2 }),
      ).toMatchObject({
        recovered: true,
        publications: [{ offset: since2 + 1 }, { offset: since2 + 2 }],
      });
    });

    it('with CHANNEL_HISTORY_TTL_MS=300, publications older than the TTL are gone: recovered false', async () => {
      const ttlMs = 300;
      const short = await startServer({ CHANNEL_HISTORY_TTL_MS: String(ttlMs) });
      servers.push(short);
      const channel = `news.${rid()}`;
      const { since, epoch } = await missSome(short, channel, 3);
      // Waiting for the TTL to pass is what this test is about: no event announces an expiry.
      await new Promise((resolve) => setTimeout(resolve, ttlMs + 200));
      const again = await connect(`sub-${rid()}`, {}, short);
      const reply = await again.call('channel.subscribe', { channel, since, epoch });
      expect(reply).toMatchObject({ channel, recovered: false, publications: [] });
      // Offsets never go back after the window emptied.
      expect(reply.offset).toBeGreaterThanOrEqual(since + 3);
      const p = await publisher(short);
      expect((await p.call('channel.publish', { channel, data: 'next' })).offset).toBeGreaterThan(
        since + 3,
      );
    });
  });

  describe('server API publish', () => {
    it('POST /api/channels/:channel/publish answers 201 {offset} and pushes channel.message without userId', async () => {
      const channel = `news.${rid()}`;
      const s = await connect(`sub-${rid()}`);
      await s.call('channel.subscribe', { channel });
      const res = await api(server, 'POST', `/api/channels/${channel}/publish`, {
        data: { from: 'backend' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ offset: 1 });
      const push = await s.next('channel.message');
      expect(push.data).toEqual(publication({ channel, offset: 1, data: { from: 'backend' } }));

      const res2 = await api(server, 'POST', `/api/channels/${channel}/publish`, { data: 2 });
      expect(res2.body).toEqual({ offset: 2 });
    });

    it('shares offsets and the recovery window with socket publications', async () => {
      const channel = `news.${rid()}`;
      const p = await publisher();
      await p.call('channel.publish', { channel, data: 'ws' });
      await api(server, 'POST', `/api/channels/${channel}/publish`, { data: 'api' });
      const s = await connect(`sub-${rid()}`);
      const { epoch } = await s.call('channel.subscribe', { channel });
      const reply = await s.call('channel.subscribe', { channel, since: 0, epoch });
      expect(reply).toMatchObject({
        offset: 2,
        recovered: true,
        publications: [
          { offset: 1, data: 'ws' },
          { offset: 2, data: 'api' },
        ],
      });
    });

    it('answers 401 without the API key and publishes nothing', async () => {
      const channel = `news.${rid()}`;
      expect(
        (await api(server, 'POST', `/api/channels/${channel}/publish`, { data: 1 }, null)).status,
      ).toBe(401);
      expect(
        (await api(server, 'POST', `/api/channels/${channel}/publish`, { data: 1 }, 'wrong'))
          .status,
      ).toBe(401);
      const s = await connect(`sub-${rid()}`);
      expect((await s.call('channel.subscribe', { channel })).offset).toBe(0);
    });

    it('answers 400 with field messages for a body without data', async () => {
      const res = await api(server, 'POST', `/api/channels/news.${rid()}/publish`, {});
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining('data')]));
    });
  });
});
