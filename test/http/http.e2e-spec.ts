import { requestJson } from '../support/http';
import { jwtClaims } from '../support/jwt';
import { ERROR_CODES } from '../../src/protocol/errors';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/** The value of one un-labelled or labelled sample in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === name) return Number(line.slice(space + 1));
  }
  return undefined;
}

describe('HTTP endpoints', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  describe('health', () => {
    it('answers GET /health with 200', async () => {
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
    });

    it('answers GET /health/ready with 200 while the store answers and the instance is not draining', async () => {
      const res = await fetch(`${server.url}/health/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    });
  });

  describe('metrics', () => {
    async function scrape(): Promise<string> {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      return res.text();
    }

    it('exposes the connection gauge and the message and error counters in Prometheus text', async () => {
      const text = await scrape();
      expect(text).toMatch(/^# TYPE hubbub_connections gauge$/m);
      expect(text).toMatch(/^# TYPE hubbub_messages_received_total counter$/m);
      expect(text).toMatch(/^# TYPE hubbub_messages_sent_total counter$/m);
      expect(text).toMatch(/^# TYPE hubbub_errors_total counter$/m);
      expect(sample(text, 'hubbub_connections')).toEqual(expect.any(Number));
      expect(sample(text, 'hubbub_messages_received_total')).toEqual(expect.any(Number));
      expect(sample(text, 'hubbub_messages_sent_total')).toEqual(expect.any(Number));
    });

    it('lists every error code from the start, at 0 until it happens', async () => {
      const fresh = await startServer();
      try {
        const text = await (await fetch(`${fresh.url}/metrics`)).text();
        for (const code of ERROR_CODES)
          expect(sample(text, `hubbub_errors_total{code="${code}"}`)).toBe(0);
      } finally {
        await fresh.close();
      }
    });

    it('counts connections, received and sent messages, and errors by code', async () => {
      const before = await scrape();
      const client = await TestClient.connect(server.wsUrl, await server.token('alice'));
      try {
        await client.call('ping');
        client.send('{bad json');
        await client.next('error');
        const after = await scrape();
        expect(sample(after, 'hubbub_connections')).toBe(sample(before, 'hubbub_connections')! + 1);
        expect(sample(after, 'hubbub_messages_received_total')).toBeGreaterThanOrEqual(
          sample(before, 'hubbub_messages_received_total')! + 2,
        );
        // welcome, pong and the error frame
        expect(sample(after, 'hubbub_messages_sent_total')).toBeGreaterThanOrEqual(
          sample(before, 'hubbub_messages_sent_total')! + 3,
        );
        expect(sample(after, 'hubbub_errors_total{code="bad_json"}')).toBe(
          (sample(before, 'hubbub_errors_total{code="bad_json"}') ?? 0) + 1,
        );
      } finally {
        await client.close();
      }
    });
  });

  describe('dev tokens', () => {
    it('answers POST /dev/token {userId} with 201 {token} that opens a socket as that user', async () => {
      const res = await requestJson(`${server.url}/dev/token`, 'POST', {
        userId: 'dev-user',
        name: 'Dev User',
      });
      expect(res.status).toBe(201);
      const body = res.body as { token: string };
      expect(body).toEqual({ token: expect.any(String) });
      const claims = jwtClaims(body.token);
      expect(claims).toMatchObject({ sub: 'dev-user', name: 'Dev User' });
      // valid 24 h
      expect(claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(24 * 3600 - 60);
      expect(claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(24 * 3600);

      const client = await TestClient.connect(server.wsUrl, body.token);
      try {
        expect(client.frames[0].data.userId).toBe('dev-user');
      } finally {
        await client.close();
      }
    });

    it.each([
      ['no body', undefined],
      ['an empty object', {}],
      ['a non-string userId', { userId: 42 }],
      ['an empty userId', { userId: '' }],
      ['a userId over 128 characters', { userId: 'u'.repeat(129) }],
      ['a non-string name', { userId: 'ok', name: 7 }],
    ])('answers POST /dev/token with %s with 400 and the field errors', async (_what, body) => {
      const res = await fetch(`${server.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      const json = (await res.json()) as { message: unknown[] };
      expect(json).toMatchObject({ statusCode: 400, message: expect.any(Array) });
      expect(json.message.length).toBeGreaterThan(0);
      expect(JSON.stringify(json)).not.toMatch(/\.ts:\d+|\n\s+at\s/);
    });

    it('answers POST /dev/token with invalid JSON with 400', async () => {
      const res = await fetch(`${server.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"userId":',
      });
      expect(res.status).toBe(400);
    });
  });
});

describe('HTTP endpoints with DEV_TOKENS=false', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ DEV_TOKENS: 'false' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers POST /dev/token with 404', async () => {
    const res = await requestJson(`${server.url}/dev/token`, 'POST', { userId: 'someone' });
    expect(res.status).toBe(404);
  });

  // Regression (fixed in 744f577): the ValidationPipe used to run before the dev-tokens check, answering 400.
  it('answers POST /dev/token with 404 whatever the body', async () => {
    const res = await requestJson(`${server.url}/dev/token`, 'POST', {});
    expect(res.status).toBe(404);
  });

  it('still answers /health', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
