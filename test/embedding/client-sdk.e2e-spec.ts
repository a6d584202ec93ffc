import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChannelHistory } from '../../src/channels/history/channel-history';
import { ClientRegistry } from '../../src/ws/client-registry.service';
import { OutboundWriter } from '../../src/ws/outbound-writer';
import { hmacJwt, nowSec } from '../support/jwt';
import { until } from '../support/redis-processes';
import { nextEvent } from '../support/sdk-clients';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';

// The SDK is a plain ES module (client/package.json says "type": "module"); jest runs with
// --experimental-vm-modules, so a dynamic import() loads it as the browser would.
type Sdk = typeof import('../../client/hubbub-client.js');
type HubbubClient = InstanceType<Sdk['HubbubClient']>;
type Message = import('../../client/hubbub-client.js').Message;
type Publication = import('../../client/hubbub-client.js').Publication;

const API_KEY = 'test-api-key-for-the-sdk-spec';

jest.setTimeout(20_000);

/** Waits until the wall clock passes `ms` from now. Used only to prove that something did NOT happen. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('client SDK (client/hubbub-client.js)', () => {
  let sdk: Sdk;
  let server: TestServer;
  const clients: HubbubClient[] = [];

  /**
   * A WebSocket that records every frame it receives and, while `offline` has the user, dials a closed port instead
   * of the server: the SDK's reconnect then fails (1006) and retries until the test lets it through. With
   * `dropAfterSend`, it closes itself right after writing the user's next chat.send, so the reply is lost.
   */
  const received: { userId: string; frame: any }[] = [];
  const offline = new Set<string>();
  const dropAfterSend = new Set<string>();
  class GatedWebSocket extends WebSocket {
    readonly userId: string;
    constructor(url: string | URL) {
      const userId = JSON.parse(atob(new URL(url).searchParams.get('access_token')!.split('.')[1]))
        .sub as string;
      super(offline.has(userId) ? 'ws://127.0.0.1:9/ws' : url);
      this.userId = userId;
      this.addEventListener('message', (ev) =>
        received.push({ userId, frame: JSON.parse(String(ev.data)) }),
      );
    }
    override send(data: string): void {
      super.send(data);
      if (data.includes('"chat.send"') && dropAfterSend.delete(this.userId)) this.close();
    }
  }

  async function connect(
    userId: string,
    claims: Record<string, unknown> = {},
    options: Record<string, unknown> = {},
  ): Promise<HubbubClient> {
    const token = await server.token(userId, {
      name: userId[0].toUpperCase() + userId.slice(1),
      ...claims,
    });
    const client = new sdk.HubbubClient(server.wsUrl, {
      token,
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      WebSocket: GatedWebSocket,
      ...options,
    });
    clients.push(client);
    await client.connect();
    return client;
  }

  /** Closes every socket of the user from the server side with `code`, as the server does for a slow consumer. */
  function serverClose(userId: string, code: number): void {
    const writer = server.app.get(OutboundWriter);
    for (const conn of [...server.app.get(ClientRegistry).forUser(userId)])
      writer.close(conn, code, 'test');
  }

  beforeAll(async () => {
    sdk = await import(pathToFileURL(join(__dirname, '../../client/hubbub-client.js')).href);
    server = await startServer({ API_KEY });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  it('connect() resolves with the welcome data', async () => {
    const alice = await connect('alice');
    expect(alice.welcome).toMatchObject({ userId: 'alice', heartbeatMs: expect.any(Number) });
    expect(alice.connected).toBe(true);
  });

  it('request() resolves with the reply data', async () => {
    const alice = await connect('alice');
    await expect(alice.request('ping')).resolves.toEqual({ ts: expect.any(Number) });
    await expect(alice.request('server.stats')).resolves.toMatchObject({
      connections: expect.any(Number),
    });
  });

  it('request() rejects with the error code and details', async () => {
    const alice = await connect('alice');
    const notJoined = await alice
      .request('chat.send', { room: 'nowhere', text: 'hi' })
      .catch((e: unknown) => e);
    expect(notJoined).toBeInstanceOf(sdk.HubbubError);
    expect(notJoined).toMatchObject({ code: 'not_joined' });

    const invalid = await alice
      .request('chat.join', { room: 'no spaces allowed' })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'validation_failed' });
    expect((invalid as { details: { field: string }[] }).details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'room' })]),
    );
    // the connection stays usable
    await expect(alice.request('ping')).resolves.toBeDefined();
  });

  it('send() is idempotent through its clientMsgId, and messages from others arrive as chat.message', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await alice.join('idem');
    await bob.join('idem');
    const pushed = nextEvent<Message>(bob, 'chat.message', (m) => m.room === 'idem');
    const first = await alice.send('idem', 'once', { clientMsgId: 'fixed-1' });
    const again = await alice.send('idem', 'once', { clientMsgId: 'fixed-1' });
    expect(again.id).toBe(first.id);
    expect(again.seq).toBe(first.seq);
    expect(await pushed).toMatchObject({
      text: 'once',
      userId: 'alice',
      name: 'Alice',
      seq: first.seq,
    });
  });

  it('reconnects after a 1013 close, rejoins with since and delivers the message sent meanwhile', async () => {
    const carol = await connect('carol');
    const dave = await connect('dave');
    await carol.join('recover');
    await dave.join('recover');
    const first = nextEvent<Message>(carol, 'chat.message', (m) => m.text === 'before the drop');
    await dave.send('recover', 'before the drop');
    await first;

    const seen: Message[] = [];
    carol.on('chat.message', (m: Message) => seen.push(m));
    offline.add('carol');
    const dropped = nextEvent(carol, 'disconnected');
    serverClose('carol', 1013);
    expect(await dropped).toMatchObject({ code: 1013, reconnecting: true });

    const missed = await dave.send('recover', 'while you were away');
    const reconnected = nextEvent(carol, 'connected');
    offline.delete('carol');
    expect(await reconnected).toMatchObject({ reconnected: true });

    expect(seen.map((m) => [m.seq, m.text])).toEqual([[missed.seq, 'while you were away']]);
    // It came in the reply to the rejoin, which asked for what followed the last seq carol had.
    const rejoin = received
      .filter((r) => r.userId === 'carol' && r.frame.event === 'chat.join')
      .at(-1);
    expect(rejoin?.frame.data.messages.map((m: Message) => m.seq)).toEqual([missed.seq]);

    // Live again: the next message arrives as a push, once.
    const live = nextEvent<Message>(carol, 'chat.message', (m) => m.text === 'live again');
    await dave.send('recover', 'live again');
    expect((await live).seq).toBe(missed.seq + 1);
    expect(seen).toHaveLength(2);
  });

  it('resubscribes channels with since and delivers missed publications once, in order', async () => {
    const erin = await connect('erin');
    const frank = await connect('frank', { publish: ['scores.*'] });
    const got: number[] = [];
    await erin.subscribe('scores.final', (p: Publication) => got.push(p.data as number));
    const first = nextEvent(erin, 'channel.message', (p: Publication) => p.data === 1);
    await frank.publish('scores.final', 1);
    await first;

    offline.add('erin');
    const dropped = nextEvent(erin, 'disconnected');
    serverClose('erin', 1013);
    await dropped;
    await frank.publish('scores.final', 2);
    await frank.publish('scores.final', 3);
    const reconnected = nextEvent(erin, 'connected');
    offline.delete('erin');
    await reconnected;
    const last = nextEvent(erin, 'channel.message', (p: Publication) => p.data === 4);
    await frank.publish('scores.final', 4);
    await last;
    expect(got).toEqual([1, 2, 3, 4]);
  });

  it('subscribes with a subscription token, resubscribes with the refreshed one, and hears token_expired', async () => {
    const ivan = await connect('ivan');
    const frank = await connect('frank', { publish: ['private:*'] });
    const channel = `private:doc-${Date.now()}`;
    const token = (exp: number) => hmacJwt({ sub: 'ivan', channel, exp }, TEST_SECRET);
    await ivan.subscribe(channel, undefined, { token: token(nowSec() + 60) });
    const exp = nowSec() + 4;
    expect(await ivan.refreshChannel(channel, token(exp))).toEqual({ channel, exp });

    // After a reconnect the channel is resubscribed with the refreshed token (without one: forbidden).
    const dropped = nextEvent(ivan, 'disconnected');
    serverClose('ivan', 1013);
    await dropped;
    await nextEvent(ivan, 'connected');
    const live = nextEvent(ivan, 'channel.message', (p: Publication) => p.data === 'after');
    await frank.publish(channel, 'after');
    await live;
    // The refreshed token's exp ends the subscription.
    expect(await nextEvent(ivan, 'channel.unsubscribed', () => true, 10_000)).toEqual({
      channel,
      reason: 'token_expired',
    });
  });

  it('queues requests made while reconnecting', async () => {
    const gina = await connect('gina');
    await gina.join('queued');
    offline.add('gina');
    const dropped = nextEvent(gina, 'disconnected');
    serverClose('gina', 1001);
    await dropped;
    const sending = gina.send('queued', 'sent while offline');
    await pause(50);
    offline.delete('gina');
    const message = await sending;
    expect(message).toMatchObject({ room: 'queued', text: 'sent while offline', userId: 'gina' });
  });

  it('resends a send whose reply was lost with the same clientMsgId: stored once, not echoed', async () => {
    const kim = await connect('kim');
    await kim.join('resend');
    const echoed: Message[] = [];
    kim.on('chat.message', (m: Message) => echoed.push(m));
    dropAfterSend.add('kim');
    const dropped = nextEvent(kim, 'disconnected');
    const sending = kim.send('resend', 'exactly once');
    expect(await dropped).toMatchObject({ reconnecting: true });
    const message = await sending;
    expect(message).toMatchObject({ text: 'exactly once', userId: 'kim' });
    const history = await kim.request('chat.history', { room: 'resend' });
    expect(history.messages.filter((m: Message) => m.text === 'exactly once')).toHaveLength(1);
    expect(echoed).toEqual([]);
  });

  it('does not reconnect after POST /api/users/:id/disconnect (4403)', async () => {
    const hank = await connect('hank');
    let welcomes = 0;
    hank.on('welcome', () => welcomes++);
    const closed = nextEvent(hank, 'disconnected');
    const res = await fetch(`${server.url}/api/users/hank/disconnect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(202);
    expect(await closed).toMatchObject({ code: 4403, reconnecting: false });

    // Proof that it never reconnects: the client closed for good. A request fails `closed` at once, where a client
    // that would reconnect queues it until it is back.
    await expect(hank.request('ping')).rejects.toMatchObject({ code: 'closed' });
    expect(welcomes).toBe(0);
    expect(hank.connected).toBe(false);
    // The server forgets the connection once its side of the close handshake has run.
    const registry = server.app.get(ClientRegistry);
    await until(
      () => Promise.resolve(registry.forUser('hank').size === 0),
      'the server to drop hank',
    );
  });

  it('asks getToken for a new token after 4401 (token expired) and restores the session', async () => {
    const tokens: string[] = [];
    const getToken = async (): Promise<string> => {
      // The first token lives 2 s; the refresh attempted before it expires fails, so the server closes 4401.
      if (tokens.push('asked') === 2) throw new Error('identity service down');
      return server.token('ivy', { name: 'Ivy' }, tokens.length === 1 ? 2 : 3600);
    };
    const ivy = new sdk.HubbubClient(server.wsUrl, { getToken, backoffBaseMs: 20 });
    clients.push(ivy);
    const refreshFailed = nextEvent(ivy, 'refresh.error', () => true, 8000);
    await ivy.connect();
    await ivy.join('expiry');
    const closed = nextEvent(ivy, 'disconnected', () => true, 8000);
    const reconnected = nextEvent(ivy, 'connected', () => true, 10_000);
    expect(await refreshFailed).toMatchObject({ message: 'identity service down' });
    expect(await closed).toMatchObject({ code: 4401, reconnecting: true });
    await reconnected;
    expect(tokens).toHaveLength(3);
    await expect(ivy.send('expiry', 'still here')).resolves.toMatchObject({ text: 'still here' });
  });

  it('refreshes the token with auth.refresh before exp, so the connection is never closed for expiry', async () => {
    let asked = 0;
    // 32 s: the refresh is due 30 s before exp, i.e. after 2 s.
    const getToken = () => server.token('lena', {}, asked++ === 0 ? 32 : 3600);
    const lena = new sdk.HubbubClient(server.wsUrl, { getToken, backoffBaseMs: 20 });
    clients.push(lena);
    let disconnects = 0;
    lena.on('disconnected', () => disconnects++);
    const refreshed = nextEvent<{ exp: number }>(lena, 'refreshed', () => true, 8000);
    await lena.connect();
    const { exp } = await refreshed;
    expect(exp * 1000).toBeGreaterThan(Date.now() + 3000_000);
    expect(asked).toBe(2);
    const [conn] = server.app.get(ClientRegistry).forUser('lena');
    expect(conn.principal.expiresAt).toBe(exp * 1000);
    expect(disconnects).toBe(0);
  });

  it('surfaces server API subscriptions, user messages and unsubscriptions, and tracks them across reconnects', async () => {
    const mona = await connect('mona');
    const api = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const subscribed = nextEvent(mona, 'channel.subscribed');
    await api('/api/channels/alerts.mona/subscribe', { userId: 'mona' });
    expect(await subscribed).toEqual({
      channel: 'alerts.mona',
      offset: 0,
      epoch: expect.any(String),
    });
    const note = nextEvent(mona, 'user.message');
    await api('/api/users/mona/messages', { data: { text: 'hi' } });
    expect(await note).toEqual({ data: { text: 'hi' }, from: 'server' });

    // The server-made subscription is restored after a reconnect like one of the client's own.
    offline.add('mona');
    const dropped = nextEvent(mona, 'disconnected');
    serverClose('mona', 1013);
    await dropped;
    await api('/api/channels/alerts.mona/publish', { data: 'missed' });
    const reconnected = nextEvent(mona, 'connected');
    offline.delete('mona');
    const missed = nextEvent<Publication>(mona, 'channel.message', (p) => p.data === 'missed');
    await reconnected;
    expect((await missed).offset).toBe(1);

    const unsubscribed = nextEvent(mona, 'channel.unsubscribed');
    await api('/api/channels/alerts.mona/unsubscribe', { userId: 'mona' });
    expect(await unsubscribed).toEqual({ channel: 'alerts.mona', reason: 'server' });
  });

  it('emits chat.left when a refreshed token no longer grants a private: room, and does not rejoin it', async () => {
    let claims: Record<string, unknown> = { rooms: ['private:*'] };
    const getToken = () => server.token('nina', claims, 3600);
    const nina = new sdk.HubbubClient(server.wsUrl, { getToken, backoffBaseMs: 20 });
    clients.push(nina);
    await nina.connect();
    await nina.join('private:club');
    claims = {};
    const left = nextEvent(nina, 'chat.left');
    await nina.refresh();
    expect(await left).toEqual({ room: 'private:club', reason: 'forbidden' });
    const restoreErrors: unknown[] = [];
    nina.on('restore.error', (e: unknown) => restoreErrors.push(e));
    const reconnected = nextEvent(nina, 'connected');
    serverClose('nina', 1013);
    await reconnected;
    expect(restoreErrors).toEqual([]);
  });

  it('resubscribes with since and epoch; when offsets restarted (new epoch) it follows the new stream', async () => {
    const olga = await connect('olga');
    const pete = await connect('pete', { publish: ['restart.*'] });
    const got: unknown[] = [];
    const first = await olga.subscribe('restart.ch', (p: Publication) => got.push(p.data));
    const seen = nextEvent(olga, 'channel.message', (p: Publication) => p.data === 'old-2');
    await pete.publish('restart.ch', 'old-1');
    await pete.publish('restart.ch', 'old-2');
    await seen;

    offline.add('olga');
    const dropped = nextEvent(olga, 'disconnected');
    serverClose('olga', 1013);
    await dropped;
    await server.app.get(ChannelHistory).close(); // what a restart does to memory history: offsets start again
    await pete.publish('restart.ch', 'new-1');
    const recovery = nextEvent(olga, 'channel.recovery');
    const reconnected = nextEvent(olga, 'connected');
    offline.delete('olga');
    await reconnected;
    const report = await recovery;
    expect(report).toMatchObject({ channel: 'restart.ch', recovered: false, offset: 1 });
    expect(report.epoch).not.toBe(first.epoch);
    const resubscribe = received.filter(
      (r) =>
        r.userId === 'olga' &&
        r.frame.event === 'channel.subscribe' &&
        r.frame.data?.recovered === false,
    );
    expect(resubscribe).toHaveLength(1);
    // Offset 2 of the new stream is not mistaken for the old offset 2.
    const next = nextEvent(olga, 'channel.message', (p: Publication) => p.data === 'new-2');
    await pete.publish('restart.ch', 'new-2');
    expect((await next).offset).toBe(2);
    expect(got).toEqual(['old-1', 'old-2', 'new-2']);
  });

  it('stays closed after close(); pending requests fail with closed', async () => {
    const jack = await connect('jack');
    const closed = nextEvent(jack, 'disconnected');
    jack.close();
    expect(await closed).toMatchObject({ reconnecting: false });
    await expect(jack.request('ping')).rejects.toMatchObject({ code: 'closed' });
  });
});
