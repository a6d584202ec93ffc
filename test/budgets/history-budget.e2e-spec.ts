/**
 * Issue 19, point 1 (history amplification). A `chat.history {limit: 100}` of 60 bytes answered about 1 MB, read
 * and encoded on the event loop, and one socket could have any number of them running: one socket's burst stalled
 * every other connection. Now a reply that carries messages stays under HISTORY_REPLY_MAX_BYTES (fewer messages,
 * `more: true`), a connection runs one such request at a time (the next wait their turn, each on a later turn of
 * the event loop), waiting requests of a closed connection are dropped, and each costs 5 rate-limit tokens.
 */
import { ChannelsService } from '../../src/channels/channels.service';
import { ChatService } from '../../src/chat/chat.service';
import { PrometheusObservations } from '../../src/metrics/prometheus-observations';
import { ClientRegistry } from '../../src/ws/client-registry.service';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { TestClient, type Frame } from '../support/ws-client';

const CAP = 8192;
const TEXT = 'x'.repeat(1000);

/** Requests of this event the server has answered so far (its request-duration histogram's count). */
async function answered(server: TestServer, event: string): Promise<number> {
  const metric = server.app
    .get(PrometheusObservations)
    .registry.getSingleMetric('hubbub_request_duration_seconds')!;
  const { values } = await metric.get();
  const count = values.find(
    (v) =>
      (v as { metricName?: string }).metricName === 'hubbub_request_duration_seconds_count' &&
      v.labels.event === event,
  );
  return count?.value ?? 0;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('history amplification', () => {
  describe('reply byte cap', () => {
    let server: TestServer;
    const clients = trackedClients(() => server);
    beforeAll(async () => {
      server = await startServer({ HISTORY_REPLY_MAX_BYTES: String(CAP) });
    });
    afterAll(() => server.close());

    const seed = async (room: string, n: number): Promise<void> => {
      const chat = server.app.get(ChatService);
      for (let i = 0; i < n; i++) await chat.post(room, 'seeder', TEXT);
    };
    const seqs = (reply: Frame): number[] =>
      (reply.data.messages as { seq: number }[]).map((m) => m.seq);
    const size = (reply: Frame): number => Buffer.byteLength(JSON.stringify(reply));

    it('chat.history holds fewer messages rather than pass the cap, says more: true, and pages on', async () => {
      const room = `r-${rid()}`;
      await seed(room, 30);
      const client = await clients.connect('reader');
      const back = await client.request('chat.history', { room, limit: 30 });
      expect(back.data.more).toBe(true);
      expect(size(back)).toBeLessThanOrEqual(CAP);
      const newest = seqs(back);
      expect(newest.length).toBeGreaterThan(2);
      expect(newest.length).toBeLessThan(30);
      expect(newest[newest.length - 1]).toBe(30); // a page going back keeps the newest
      const older = await client.request('chat.history', { room, before: newest[0], limit: 30 });
      expect(seqs(older)[seqs(older).length - 1]).toBe(newest[0] - 1);

      const forward = await client.request('chat.history', { room, after: 0, limit: 30 });
      expect(forward.data.more).toBe(true);
      expect(size(forward)).toBeLessThanOrEqual(CAP);
      expect(seqs(forward)[0]).toBe(1); // a page going forward keeps the oldest

      const small = await client.request('chat.history', { room, after: 28 });
      expect(seqs(small)).toEqual([29, 30]);
      expect(small.data).not.toHaveProperty('more');
    });

    it('chat.join keeps the newest without since and the oldest after since, under the cap', async () => {
      const room = `r-${rid()}`;
      await seed(room, 30);
      const client = await clients.connect('joiner');
      const recent = await client.request('chat.join', { room });
      expect(recent.data).toMatchObject({ room, seq: 30, more: true });
      expect(size(recent)).toBeLessThanOrEqual(CAP);
      expect(seqs(recent)[seqs(recent).length - 1]).toBe(30);
      const other = await clients.connect('joiner2');
      const since = await other.request('chat.join', { room, since: 10 });
      expect(since.data.more).toBe(true);
      expect(size(since)).toBeLessThanOrEqual(CAP);
      expect(seqs(since)[0]).toBe(11);
    });

    it('channel.subscribe with since holds fewer publications, more: true; subscribing again from the last one gets the rest', async () => {
      const channel = `c-${rid()}`;
      const channels = server.app.get(ChannelsService);
      for (let i = 0; i < 30; i++) await channels.publish(channel, { text: TEXT });
      const client = await clients.connect('subscriber');
      const { epoch } = (await client.call('channel.subscribe', { channel })) as { epoch: string };
      const first = await client.request('channel.subscribe', { channel, since: 0, epoch });
      expect(first.data).toMatchObject({ offset: 30, recovered: true, more: true });
      expect(size(first)).toBeLessThanOrEqual(CAP);
      const got = (first.data.publications as { offset: number }[]).map((p) => p.offset);
      expect(got[0]).toBe(1);
      const last = got[got.length - 1];
      const rest = await client.request('channel.subscribe', { channel, since: last, epoch });
      expect((rest.data.publications as { offset: number }[])[0].offset).toBe(last + 1);
    });
  });

  describe('one message-carrying request at a time per connection', () => {
    let server: TestServer;
    const clients = trackedClients(() => server);
    const room = `r-${rid()}`;
    beforeAll(async () => {
      // Enough tokens for the whole burst: what is shown here is the turn-taking, not the rate limit.
      server = await startServer({ RATE_LIMIT_BURST: '1000', RATE_LIMIT_PER_SEC: '1000' });
      const chat = server.app.get(ChatService);
      for (let i = 0; i < 100; i++) await chat.post(room, 'seeder', 'y'.repeat(2000));
    });
    afterAll(() => server.close());

    const flood = (client: TestClient, n: number): void => {
      for (let i = 0; i < n; i++) {
        client.send({ event: 'chat.history', id: `h${i}`, data: { room, limit: 100 } });
      }
    };

    // Order on one socket is the server's order: the typing push caused by the bystander is written to the
    // flooder's socket after whatever the server did before it read the bystander's frame. Before, the server ran
    // the whole burst (30 history reads of 200 KB) in the turn that read it; the bystander waited for all of it.
    it('serves a bystander between one flooding socket’s history reads', async () => {
      const flooder = await clients.connect('flooder');
      const bystander = await clients.connect('bystander');
      await flooder.call('chat.join', { room });
      await bystander.call('chat.join', { room });
      const mark = flooder.frames.length;
      flood(flooder, 30);
      await nextTurn(); // the server reads the burst in the poll phase this turn ends with
      const typed = bystander.request('chat.typing', { room, typing: true });
      const push = await flooder.next('chat.typing', 10_000);
      expect((await typed).event).toBe('chat.typing');
      const before = flooder.frames
        .slice(mark, flooder.frames.indexOf(push))
        .filter((f) => f.event === 'chat.history');
      expect(before.length).toBeLessThan(5);
      // Every request is answered: at least the 9 that fit (one running, eight waiting) with their messages, the
      // ones that found the queue full with rate_limited.
      const replies = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          flooder.wait((f) => f.id === `h${i}`, `h${i}`, 20_000),
        ),
      );
      const served = replies.filter((f) => f.event === 'chat.history');
      expect(served.length).toBeGreaterThanOrEqual(9);
      const refused = replies.filter((f) => f.event === 'error').map((f) => f.data.code);
      expect(refused).toEqual(Array(30 - served.length).fill('rate_limited'));
    });

    it('drops the waiting requests of a connection that closed', async () => {
      const flooder = await clients.connect('closer');
      const bystander = await clients.connect('watcher');
      const before = await answered(server, 'chat.history');
      flood(flooder, 9); // one runs, eight wait
      flooder.ws.terminate();
      const registry = server.app.get(ClientRegistry);
      while (registry.size > 1) await bystander.call('ping'); // until the server saw the close
      await bystander.call('ping');
      expect((await answered(server, 'chat.history')) - before).toBeLessThan(9);
    });
  });

  it('charges chat.history 5 tokens: 8 of a burst of 12 pass RATE_LIMIT_BURST=40', async () => {
    const server = await startServer();
    try {
      const client = await TestClient.connect(server.wsUrl, await server.token('u'));
      const replies = await Promise.all(
        Array.from({ length: 12 }, () => client.request('chat.history', { room: 'quiet' })),
      );
      expect(replies.filter((f) => f.event === 'chat.history')).toHaveLength(8);
      const refused = replies.filter((f) => f.event === 'error');
      expect(refused.map((f) => f.data.code)).toEqual(Array(4).fill('rate_limited'));
      expect(refused[0].data.details.retryAfterMs).toBeGreaterThan(0);
      await client.close();
    } finally {
      await server.close();
    }
  });
});
