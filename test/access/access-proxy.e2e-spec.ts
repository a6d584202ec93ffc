/**
 * The access proxy (ACCESS_PROXY_URL): what the claims do not grant is asked of the backend, signed like
 * webhooks; only a 200 `{"allow": true}` within ACCESS_PROXY_TIMEOUT_MS grants (CONTRACT section 5).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { type Frame, TestClient } from '../support/ws-client';

const SECRET = `whsec_${Buffer.from('access-proxy-test-secret-32-bytes!!').toString('base64')}`;
// Long enough that the other requests of the timeout test are answered well inside it even on a loaded machine.
const TIMEOUT_MS = 1500;

type Answer = (res: ServerResponse) => void;
interface Asked {
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  verified: boolean;
}

/** A backend on a local port: verifies each request with the standardwebhooks package, answers as told. */
class Backend {
  readonly asked: Asked[] = [];
  answer: Answer = json(200, { allow: true });
  url = '';
  /** TCP connections opened to it so far. */
  sockets = 0;
  /** Requests asked and not answered yet: now, and the most at any time. */
  unanswered = 0;
  maxUnanswered = 0;
  private readonly held = new Set<ServerResponse>();
  private waiters: (() => void)[] = [];
  private readonly server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let verified = true;
      try {
        new Webhook(SECRET).verify(raw, req.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      this.asked.push({ body: JSON.parse(raw), headers: req.headers, verified });
      this.held.add(res);
      this.maxUnanswered = Math.max(this.maxUnanswered, ++this.unanswered);
      res.on('close', () => {
        this.held.delete(res);
        this.unanswered--;
      });
      this.answer(res);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }).on('connection', () => this.sockets++);

  /** Resolves once `n` requests were asked. */
  async askedAtLeast(n: number): Promise<void> {
    while (this.asked.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  static async start(): Promise<Backend> {
    const backend = new Backend();
    await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));
    const { port } = backend.server.address() as AddressInfo;
    backend.url = `http://127.0.0.1:${port}/access`;
    return backend;
  }

  stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const json =
  (status: number, body: unknown): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
/** Never answers (the server must give up after its timeout). */
const silence: Answer = () => undefined;

describe('access proxy', () => {
  let backend: Backend;
  let server: TestServer;

  beforeAll(async () => {
    backend = await Backend.start();
    server = await startServer({
      ACCESS_PROXY_URL: backend.url,
      ACCESS_PROXY_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_SECRET: SECRET,
    });
  });
  afterAll(async () => {
    await server.close();
    await backend.stop();
  });
  beforeEach(() => {
    backend.asked.length = 0;
    backend.answer = json(200, { allow: true });
  });
  const { connect } = trackedClients(() => server);

  const refused = async (client: TestClient, event: string, data: unknown) => {
    const reply = await client.request(event, data);
    expect(reply.event).toBe('error');
    expect(reply.data.code).toBe('forbidden');
  };

  describe('asks about what the claims do not grant, signed like webhooks', () => {
    it('join: {action: "join", userId, room}; a 200 {allow: true} grants', async () => {
      const user = `u-${rid()}`;
      const room = `private:r-${rid()}`;
      const c = await connect(user);
      expect(await c.call('chat.join', { room })).toMatchObject({ room, seq: 0 });
      expect(backend.asked).toEqual([
        {
          body: { action: 'join', userId: user, room },
          headers: expect.any(Object),
          verified: true,
        },
      ]);
      const { headers } = backend.asked[0];
      expect(headers['content-type']).toBe('application/json');
      expect(headers['webhook-id']).toEqual(expect.any(String));
      expect(headers['webhook-signature']).toMatch(/^v1,/);
    });

    it('subscribe: {action: "subscribe", userId, channel}', async () => {
      const user = `u-${rid()}`;
      const channel = `private:c-${rid()}`;
      const c = await connect(user);
      expect(await c.call('channel.subscribe', { channel })).toMatchObject({ channel });
      expect(backend.asked.map((a) => a.body)).toEqual([
        { action: 'subscribe', userId: user, channel },
      ]);
    });

    it('publish: {action: "publish", userId, channel}, never the data', async () => {
      const user = `u-${rid()}`;
      const channel = `news.${rid()}`;
      const c = await connect(user);
      const data = { n: 1, blob: 'x'.repeat(30_000) };
      expect(await c.call('channel.publish', { channel, data })).toEqual({ offset: 1 });
      expect(backend.asked.map((a) => a.body)).toEqual([
        { action: 'publish', userId: user, channel },
      ]);
      expect(Number(backend.asked[0].headers['content-length'])).toBeLessThan(200);
    });

    it('chat.history of a private: room asks as a join', async () => {
      const c = await connect(`u-${rid()}`);
      await c.call('chat.history', { room: `private:r-${rid()}` });
      expect(backend.asked.map((a) => a.body.action)).toEqual(['join']);
    });
  });

  describe('does not ask', () => {
    it('about what the claims grant', async () => {
      const c = await connect(`u-${rid()}`, {
        rooms: ['private:*'],
        subscribe: ['private:*'],
        publish: ['*'],
      });
      await c.call('chat.join', { room: `private:r-${rid()}` });
      await c.call('chat.join', { room: `lobby-${rid()}` });
      await c.call('channel.subscribe', { channel: `private:c-${rid()}` });
      await c.call('channel.subscribe', { channel: `news.${rid()}` });
      await c.call('channel.publish', { channel: `news.${rid()}`, data: 1 });
      expect(backend.asked).toEqual([]);
    });

    it('about dm rooms of others or channels limited to other users: refused whatever it would say', async () => {
      const c = await connect(`u-${rid()}`);
      await refused(c, 'chat.join', { room: 'dm:alice:bob' });
      await refused(c, 'channel.subscribe', { channel: 'dialog#alice,bob' });
      expect(backend.asked).toEqual([]);
    });
  });

  describe('fails closed', () => {
    it.each([
      ['{"allow": false}', json(200, { allow: false })],
      ['{"allow": "true"}', json(200, { allow: 'true' })],
      ['an empty object', json(200, {})],
      ['a body that is not JSON', json(200, 'allow')],
      ['201 {"allow": true}', json(201, { allow: true })],
      ['403', json(403, { allow: true })],
      ['500', json(500, { error: 'boom' })],
    ])('refuses with forbidden when the backend answers %s', async (_what, answer) => {
      backend.answer = answer;
      const c = await connect(`u-${rid()}`);
      await refused(c, 'chat.join', { room: `private:r-${rid()}` });
      await refused(c, 'channel.subscribe', { channel: `private:c-${rid()}` });
      await refused(c, 'channel.publish', { channel: `news.${rid()}`, data: 1 });
      expect(backend.asked).toHaveLength(3);
    });

    it('refuses after ACCESS_PROXY_TIMEOUT_MS without blocking other connections meanwhile', async () => {
      backend.answer = silence;
      const waiting = await connect(`u-${rid()}`);
      const other = await connect(`o-${rid()}`);
      const channel = `private:c-${rid()}`;
      const started = Date.now();
      let refusedYet = false;
      const reply = waiting.request('channel.subscribe', { channel });
      void reply.then(() => (refusedYet = true));
      // While the backend keeps it waiting, the server keeps answering everyone, that connection included.
      await other.call('chat.join', { room: `lobby-${rid()}` });
      expect(await waiting.call('ping')).toEqual({ ts: expect.any(Number) });
      expect(refusedYet).toBe(false);
      const answer = await reply;
      expect(answer.data.code).toBe('forbidden');
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      // Refused means not subscribed.
      const mark = waiting.frames.length;
      const admin = await connect(`a-${rid()}`, { roles: ['admin'] });
      await admin.call('channel.publish', { channel, data: 'x' });
      await expectNoPush(waiting, mark, 'channel.message');
    });
  });

  it('refuses when the backend is unreachable', async () => {
    const down = await startServer({ ACCESS_PROXY_URL: 'http://127.0.0.1:1/access' });
    try {
      const c = await TestClient.connect(down.wsUrl, await down.token(`u-${rid()}`));
      await refused(c, 'chat.join', { room: `private:r-${rid()}` });
      await c.close();
    } finally {
      await down.close();
    }
  });
});

describe('access proxy bounds (ACCESS_PROXY_MAX_PENDING)', () => {
  let backend: Backend;
  let server: TestServer;
  const released: ServerResponse[] = [];
  const hold: Answer = (res) => void released.push(res);

  beforeAll(async () => {
    backend = await Backend.start();
    // 8 checks in flight on the instance, 4 per connection; a pool of ceil(8 / 4) = 2 sockets to the backend.
    server = await startServer({
      ACCESS_PROXY_URL: backend.url,
      ACCESS_PROXY_TIMEOUT_MS: '60000',
      ACCESS_PROXY_MAX_PENDING: '8',
    });
  });
  afterAll(async () => {
    await server.close();
    await backend.stop();
  });
  const { connect } = trackedClients(() => server);
  // Publishes: a connection's subscribes wait for each other (one message-carrying request at a time, issue 19),
  // while its publishes are asked about side by side.
  const subscribe = (c: TestClient) =>
    c.request('channel.publish', { channel: `c-${rid()}`, data: { n: 1 } }, 60_000);
  const expectOverloaded = (reply: Frame) => {
    expect(reply.event).toBe('error');
    expect(reply.data).toMatchObject({
      code: 'overloaded',
      details: { retryAfterMs: expect.any(Number) },
    });
  };

  it('past 4 checks of a connection, or 8 of the instance, answers overloaded; the backend sees at most 2 sockets', async () => {
    backend.answer = hold;
    const [a, b, c] = await Promise.all([connect('a'), connect('b'), connect('c')]);
    const fromA = [0, 1, 2, 3].map(() => subscribe(a));
    expectOverloaded(await subscribe(a)); // a's fifth: its four are still waiting for the backend
    const fromB = [0, 1, 2, 3].map(() => subscribe(b));
    expectOverloaded(await subscribe(b)); // so b has four in flight too: eight on the instance
    expectOverloaded(await subscribe(c)); // c has none, but the instance is full
    expect(await c.call('ping')).toEqual({ ts: expect.any(Number) }); // everything else is served

    await backend.askedAtLeast(2);
    backend.answer = json(200, { allow: true });
    for (const res of released.splice(0)) json(200, { allow: true })(res);
    for (const reply of await Promise.all([...fromA, ...fromB])) {
      expect(reply.event).toBe('channel.publish');
    }
    expect(backend.asked).toHaveLength(8);
    expect(backend.sockets).toBeLessThanOrEqual(2);
    expect(backend.maxUnanswered).toBeLessThanOrEqual(2);
    // Freed: c is asked about again, and granted.
    expect((await subscribe(c)).event).toBe('channel.publish');
  });
});

describe('access proxy without WEBHOOK_SECRET', () => {
  it('sends the request unsigned', async () => {
    const backend = await Backend.start();
    const server = await startServer({ ACCESS_PROXY_URL: backend.url });
    try {
      const c = await TestClient.connect(server.wsUrl, await server.token(`u-${rid()}`));
      await c.call('channel.subscribe', { channel: `private:c-${rid()}` });
      expect(backend.asked).toHaveLength(1);
      expect(backend.asked[0].headers['webhook-signature']).toBeUndefined();
      await c.close();
    } finally {
      await server.close();
      await backend.stop();
    }
  });
});
