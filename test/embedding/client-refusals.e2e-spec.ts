import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { browserDescribe, launchChromium } from '../support/chromium';
import { hmacJwt, nowSec } from '../support/jwt';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';

/**
 * A refused handshake is told why by the client SDK, not as "closed (1006)": the SDK asks `GET /ws` (no Upgrade),
 * which answers what the handshake got for the same token and origin. In Node and in Chromium, where the page
 * never sees a refused handshake's HTTP status.
 */
type Sdk = typeof import('../../client/hubbub-client.js');

const expired = (sub: string) =>
  hmacJwt({ sub, iat: nowSec() - 120, exp: nowSec() - 60 }, TEST_SECRET);

describe('GET /ws without an Upgrade: what a handshake would get', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      ALLOWED_ORIGINS: 'https://app.example',
      MAX_CONNECTIONS_PER_USER: '1',
    });
  });
  afterAll(() => server?.close());

  const check = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/ws${query}`, { headers }).then(async (res) => ({
      status: res.status,
      body: await res.json(),
    }));

  it('answers 200 for a good token, 401 with the reason for a bad or expired one, 403 for an origin', async () => {
    const token = await server.token('gina');
    expect(await check(`?access_token=${token}`)).toMatchObject({ status: 200 });
    expect(await check('', { authorization: `Bearer ${token}` })).toMatchObject({ status: 200 });
    expect(await check('?access_token=nope')).toEqual({
      status: 401,
      body: { statusCode: 401, message: 'malformed token' },
    });
    expect(await check(`?access_token=${expired('gina')}`)).toMatchObject({
      status: 401,
      body: { message: expect.stringContaining('expired') },
    });
    expect(await check('')).toMatchObject({ status: 401, body: { message: 'missing token' } });
    expect(
      await check(`?access_token=${token}&origin=${encodeURIComponent('https://evil.example')}`),
    ).toMatchObject({ status: 403, body: { message: 'origin not allowed' } });
    expect(await check(`?access_token=${token}`, { origin: 'https://evil.example' })).toMatchObject(
      { status: 403 },
    );
  });
});

describe('the client SDK in Node says why a handshake was refused', () => {
  let server: TestServer;
  let sdk: Sdk;
  beforeAll(async () => {
    sdk = await import(pathToFileURL(join(__dirname, '../../client/hubbub-client.js')).href);
    server = await startServer({ MAX_CONNECTIONS_PER_USER: '1' });
  });
  afterAll(() => server?.close());

  const refusal = async (token: string) => {
    const client = new sdk.HubbubClient(server.wsUrl, { token, reconnect: false });
    try {
      await client.connect();
      client.close();
      return undefined;
    } catch (err) {
      return err as { code: string; message: string; details: unknown };
    }
  };

  it('expired and bad tokens: 401 with the server reason', async () => {
    expect(await refusal(expired('hal'))).toMatchObject({
      code: 'refused',
      message: expect.stringMatching(/^handshake refused: .*expired.* \(HTTP 401\)$/),
      details: { code: 1006, status: 401 },
    });
    expect(await refusal('not-a-token')).toMatchObject({
      code: 'refused',
      message: 'handshake refused: malformed token (HTTP 401)',
    });
  });

  it('a user over MAX_CONNECTIONS_PER_USER: 429', async () => {
    const first = new sdk.HubbubClient(server.wsUrl, { token: await server.token('ida') });
    await first.connect();
    try {
      expect(await refusal(await server.token('ida'))).toMatchObject({
        code: 'refused',
        message: 'handshake refused: too many connections for this user (HTTP 429)',
        details: { status: 429 },
      });
    } finally {
      first.close();
    }
  });
});

/** In the page: connects with each token through the SDK and returns how each attempt failed. */
async function refusalsInPage(
  browser: Browser,
  server: TestServer,
  tokens: string[],
): Promise<{ code: string; message: string; status?: number }[]> {
  const page = await browser.newPage();
  try {
    await page.goto(server.url);
    return await page.evaluate(async (list: string[]) => {
      const sdkUrl = '/hubbub-client.js'; // the page's own copy, served by the server
      const { HubbubClient } = (await import(sdkUrl)) as Sdk;
      const out: { code: string; message: string; status?: number }[] = [];
      for (const token of list) {
        const client = new HubbubClient('/ws', { token, reconnect: false });
        const closed = new Promise<{ status?: number }>((resolve) =>
          client.on('disconnected', resolve),
        );
        try {
          await client.connect();
          out.push({ code: 'connected', message: '' });
        } catch (err) {
          const e = err as { code: string; message: string };
          out.push({ code: e.code, message: e.message, status: (await closed).status });
        }
      }
      return out;
    }, tokens);
  } finally {
    await page.close();
  }
}

browserDescribe('the client SDK in Chromium says why a handshake was refused', () => {
  let open: TestServer;
  let strict: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    open = await startServer();
    // The page's own origin (http://127.0.0.1:port) is not allowed there: its handshakes get 403.
    strict = await startServer({ ALLOWED_ORIGINS: 'https://app.example' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await open?.close();
    await strict?.close();
  });

  it('tells a bad token and an expired one (401) apart from 1006, with the reason', async () => {
    expect(await refusalsInPage(browser, open, ['not-a-token', expired('kim')])).toEqual([
      { code: 'refused', message: 'handshake refused: malformed token (HTTP 401)', status: 401 },
      {
        code: 'refused',
        message: expect.stringMatching(/^handshake refused: .*expired.* \(HTTP 401\)$/),
        status: 401,
      },
    ]);
  });

  it('tells a page origin that is not allowed (403)', async () => {
    expect(await refusalsInPage(browser, strict, [await strict.token('lou')])).toEqual([
      { code: 'refused', message: 'handshake refused: origin not allowed (HTTP 403)', status: 403 },
    ]);
  });
});
