/**
 * Issue 8, point 8 (HTTP): helmet's headers with a CSP that allows no inline script, no X-Powered-By, the
 * METRICS_TOKEN guard, per-address rate limits on /dev/token and on /api calls without the right key (never on
 * calls with it), and 400 without a stack for malformed or deeply nested JSON bodies and an empty `?before=`.
 */
import { request as httpRequest } from 'node:http';
import { cpuMsOf } from '../support/cpu';
import { requestJson } from '../support/http';
import { captureLogs, type LogCapture } from '../support/log-capture';
import { startServer, type TestServer } from '../support/server';
import {
  API_ANONYMOUS_LIMIT_PER_MIN,
  DEV_TOKEN_LIMIT_PER_MIN,
} from '../../src/http/throttle.module';

const API_KEY = 'hardening-api-key-0123456789';
const METRICS_TOKEN = 'metrics-token-0123456789';

/** A raw POST with this exact body text (fetch would be fine too; this keeps the body byte for byte). */
function postRaw(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP hardening', () => {
  let server: TestServer;
  let logs: LogCapture;

  beforeAll(async () => {
    server = await startServer({ API_KEY, METRICS_TOKEN });
    logs = captureLogs();
  });
  afterAll(async () => {
    logs.restore();
    await server.close();
  });

  describe('headers', () => {
    it('serves the chat page with a CSP that allows no inline script and no framing, and no X-Powered-By', async () => {
      const res = await fetch(`${server.url}/`);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/frame-ancestors 'none'/);
      const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? /default-src ([^;]*)/.exec(csp)?.[1];
      expect(scriptSrc).toBe("'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-powered-by')).toBeNull();
      const html = await res.text();
      // Every script of the page is a file of this origin: <script src=...> and nothing between the tags.
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(attrs).toMatch(/src="\.\/[\w.-]+\.js"/);
        expect(body.trim()).toBe('');
      }
      const script = await fetch(`${server.url}/chat-page.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^application\/javascript/);
      expect(await script.text()).toContain("from './hubbub-client.js'");
    });

    it.each(['/health', '/metrics', '/no-such-route', '/api/stats'])(
      'puts the same headers on %s',
      async (path) => {
        const res = await fetch(`${server.url}${path}`);
        expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-powered-by')).toBeNull();
      },
    );
  });

  describe('GET /metrics with METRICS_TOKEN set', () => {
    it('answers 401 without the bearer token or with a wrong one, 200 with it', async () => {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}x` },
      });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(right.status).toBe(200);
      expect(await right.text()).toMatch(/^# TYPE hubbub_connections gauge$/m);
    });

    it('stays open when METRICS_TOKEN is unset', async () => {
      const open = await startServer();
      try {
        expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
      } finally {
        await open.close();
      }
    });
  });

  describe('bodies and queries', () => {
    it('answers a malformed JSON body with 400 in Nest error shape, no stack in the body or the log', async () => {
      const before = logs.stacks().length;
      for (const body of ['{"userId":', '{"userId": "a",}', '\u0000', '{"a":"\\ud800"']) {
        const res = await postRaw(`${server.url}/dev/token`, body, {
          'x-forwarded-for': '10.9.9.9',
        });
        expect(res.status).toBe(400);
        const parsed = JSON.parse(res.text) as { statusCode: number; message: string };
        expect(parsed).toMatchObject({ statusCode: 400, message: 'Malformed JSON body' });
        expect(res.text).not.toMatch(/\bat .*:\d+:\d+/);
      }
      expect(logs.stacks().slice(before)).toEqual([]);
    });

    it('answers a 10,000-level JSON body with 400 before any handler sees it, with or without the API key', async () => {
      const before = logs.stacks().length;
      const deep = `{"data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const { value: res, cpuMs } = await cpuMsOf(() =>
        postRaw(`${server.url}/api/channels/news/publish`, deep, {
          authorization: `Bearer ${API_KEY}`,
        }),
      );
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({
        statusCode: 400,
        message: expect.stringMatching(/nested deeper than 32/),
      });
      // CPU time of server and client together, which a busy machine does not inflate.
      expect(cpuMs).toBeLessThan(1000);
      // 32 levels are still fine.
      const ok = await requestJson(
        `${server.url}/api/channels/news/publish`,
        'POST',
        { data: JSON.parse('['.repeat(30) + ']'.repeat(30)) as unknown },
        API_KEY,
      );
      expect(ok.status).toBe(201);
      expect(logs.stacks().slice(before)).toEqual([]);
    });

    it.each([
      'before=',
      'after=',
      'limit=',
      'before=1e3',
      'before=9223372036854775808',
      'before=-1',
      'before=%00',
    ])('answers GET /api/rooms/:room/messages?%s with 400', async (query) => {
      const res = await requestJson(
        `${server.url}/api/rooms/lobby/messages?${query}`,
        'GET',
        undefined,
        API_KEY,
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, message: expect.any(Array) });
    });

    it('still reads plain numbers in the history query', async () => {
      const res = await requestJson(
        `${server.url}/api/rooms/lobby/messages?before=10&limit=5`,
        'GET',
        undefined,
        API_KEY,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ messages: [] });
    });

    it('refuses NUL and other C0 controls in posted text, keeps tab, line feed and carriage return', async () => {
      const post = (text: string): Promise<{ status: number }> =>
        requestJson(
          `${server.url}/api/rooms/lobby/messages`,
          'POST',
          { userId: 'api-user', text },
          API_KEY,
        );
      expect((await post('a\u0000b')).status).toBe(400);
      expect((await post('a\u001bb')).status).toBe(400);
      expect((await post('a\tb\nc\r\n')).status).toBe(201);
    });
  });

  describe('rate limits per remote address', () => {
    it(`gives /dev/token ${DEV_TOKEN_LIMIT_PER_MIN} requests a minute, then 429, and X-Forwarded-For does not reset it`, async () => {
      const fresh = await startServer();
      try {
        const statuses: number[] = [];
        for (let i = 0; i < DEV_TOKEN_LIMIT_PER_MIN + 2; i++) {
          const res = await fetch(`${fresh.url}/dev/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${i}` },
            body: JSON.stringify({ userId: `u${i}` }),
          });
          statuses.push(res.status);
        }
        expect(statuses.slice(0, DEV_TOKEN_LIMIT_PER_MIN).every((s) => s === 201)).toBe(true);
        expect(statuses.slice(DEV_TOKEN_LIMIT_PER_MIN)).toEqual([429, 429]);
      } finally {
        await fresh.close();
      }
    });

    it('limits /api calls without the right key, and never throttles calls with it', async () => {
      const fresh = await startServer({ API_KEY });
      try {
        const call = (key: string | null): Promise<{ status: number }> =>
          requestJson(`${fresh.url}/api/stats`, 'GET', undefined, key);
        const anonymous: number[] = [];
        for (let i = 0; i < API_ANONYMOUS_LIMIT_PER_MIN; i++) {
          anonymous.push((await call(i % 2 ? null : 'wrong-key')).status);
        }
        expect(new Set(anonymous)).toEqual(new Set([401]));
        expect((await call(null)).status).toBe(429);
        expect((await call('wrong-key')).status).toBe(429);
        // The same address, with the right key: far past the anonymous limit, never 429.
        const keyed: number[] = [];
        for (let i = 0; i < API_ANONYMOUS_LIMIT_PER_MIN * 2; i++)
          keyed.push((await call(API_KEY)).status);
        expect(new Set(keyed)).toEqual(new Set([200]));
      } finally {
        await fresh.close();
      }
    });
  });
});
