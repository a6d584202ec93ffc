import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { browserDescribe, launchChromium } from '../support/chromium';
import { startServer, type TestServer } from '../support/server';

/**
 * A page on another origin (a plain static server, as a team's app would be) uses the SDK over SSE and over the
 * streamed response against Hubbub with that origin in ALLOWED_ORIGINS: the CORS preflights of `GET /sse` (with
 * `Authorization`), `POST /stream` and `POST /stream/send` pass in a real browser, and a page on an origin outside
 * the list is refused with the status (403).
 */
jest.setTimeout(45_000);

const CLIENT = join(__dirname, '../../client');

/** Serves an empty page and the SDK's two files; no CSP, like a team's own app. */
async function staticSite(): Promise<{ server: Server; origin: string }> {
  const files: Record<string, string> = {
    '/hubbub-client.js': readFileSync(join(CLIENT, 'hubbub-client.js'), 'utf8'),
    '/hubbub-transports.js': readFileSync(join(CLIENT, 'hubbub-transports.js'), 'utf8'),
    '/hubbub-chat.js': readFileSync(join(CLIENT, 'hubbub-chat.js'), 'utf8'),
  };
  const server = createServer((req, res) => {
    const js = files[req.url ?? ''];
    res.writeHead(200, { 'content-type': js ? 'application/javascript' : 'text/html' });
    res.end(js ?? '<!doctype html><title>team app</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

browserDescribe('the SDK from a page on another origin (CORS)', () => {
  let hubbub: TestServer;
  let site: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let browser: Browser;

  beforeAll(async () => {
    site = await staticSite();
    other = await staticSite();
    hubbub = await startServer({ ALLOWED_ORIGINS: site.origin });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hubbub?.close();
    site?.server.close();
    other?.server.close();
  });

  /** In a page of `origin`: connects with the transport, joins, sends; what happened, as JSON. */
  async function inPage(
    origin: string,
    transport: 'sse' | 'stream',
  ): Promise<Record<string, unknown>> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(origin);
      const token = await hubbub.token(`cors-${transport}`);
      return await page.evaluate(
        async ({ wsUrl, token, transport }) => {
          const path = '/hubbub-client.js'; // the page's URL, not a module of this repository
          const sdk = (await import(path)) as typeof import('../../client/hubbub-client.js');
          const client = new sdk.HubbubClient(wsUrl, {
            token,
            transports: [transport],
            reconnect: false,
          });
          try {
            const welcome = await client.connect();
            await client.join('cors');
            const sent = await client.send('cors', 'across origins');
            const result = { userId: welcome.userId, seq: sent.seq, transport: client.transport };
            client.close();
            return result;
          } catch (err) {
            const e = err as { code?: string; details?: { status?: number } };
            return { error: e.code, status: e.details?.status };
          }
        },
        { wsUrl: hubbub.wsUrl, token, transport },
      );
    } finally {
      await context.close();
    }
  }

  it.each(['sse', 'stream'] as const)(
    'connects, joins and sends over %s from an allowed origin',
    async (t) => {
      expect(await inPage(site.origin, t)).toMatchObject({
        userId: `cors-${t}`,
        seq: expect.any(Number),
        transport: t,
      });
    },
  );

  it('is refused (403) from an origin outside ALLOWED_ORIGINS', async () => {
    expect(await inPage(other.origin, 'sse')).toEqual({ error: 'refused', status: 403 });
  });
});
