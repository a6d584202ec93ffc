import type { Browser, BrowserContext, Page } from 'playwright-core';
import { StreamSessions } from '../../src/stream/stream-sessions.service';
import { browserDescribe, launchChromium } from '../support/chromium';
import { startServer, type TestServer } from '../support/server';

/**
 * The chat page at GET / in Chromium where WebSocket does not work: taken away from the page (`window.WebSocket`
 * deleted by an init script), or held by a "proxy" that never completes the upgrade (a WebSocket that never
 * opens). The SDK falls back by itself to Server-Sent Events (or a streamed response), remembers it for the page's
 * session, and the page works as over a socket, with a user on a real WebSocket in the same room.
 */
jest.setTimeout(45_000);

/** Init scripts run in the page before its own scripts. */
const NO_WEBSOCKET = `delete window.WebSocket;`;
/** A WebSocket that never opens (an upgrade a proxy holds forever); counts its constructions. */
const HANGING_WEBSOCKET = `
  window.__wsTries = 0;
  window.WebSocket = class { constructor() { window.__wsTries++; this.readyState = 0; } send() {} close() {} };
`;

browserDescribe('chat page without WebSocket (SDK fallback)', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signIn(userId: string, initScript?: string, storage?: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    if (initScript) await context.addInitScript(initScript);
    if (storage) {
      await context.addInitScript(`sessionStorage.setItem('hubbub.transport', '${storage}');`);
    }
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(server.url);
    await page.fill('#userId', userId);
    await page.fill('#name', userId.toUpperCase());
    await page.click('#connect');
    await page.locator('#conn', { hasText: `connected as ${userId}` }).waitFor();
    await page.locator('#chatHead', { hasText: '# lobby' }).waitFor();
    expect(problems).toEqual([]);
    return page;
  }

  const transportOf = (page: Page): Promise<string | null> =>
    page.evaluate(() => sessionStorage.getItem('hubbub.transport'));

  /** Messages both ways, members and presence between a fallback page and a WebSocket page. */
  async function chatBothWays(fallback: Page, fallbackUser: string): Promise<void> {
    const ws = await signIn(`ws-${fallbackUser}`);
    await fallback.locator(`#members li[data-user-id="ws-${fallbackUser}"]`).waitFor();
    await ws.locator(`#members li[data-user-id="${fallbackUser}"]`).waitFor();
    await fallback.fill('#text', `hello from ${fallbackUser}`);
    await fallback.click('#send');
    await ws.locator('#messages .msg', { hasText: `hello from ${fallbackUser}` }).waitFor();
    await ws.fill('#text', `hello back to ${fallbackUser}`);
    await ws.press('#text', 'Enter');
    await fallback
      .locator('#messages .msg', { hasText: `hello back to ${fallbackUser}` })
      .waitFor();
    await fallback.selectOption('#status', 'away');
    await ws.locator(`#members li[data-user-id="${fallbackUser}"] .dot.away`).waitFor();
    await fallback.context().close();
    await ws.locator(`#members li[data-user-id="${fallbackUser}"]`).waitFor({ state: 'detached' });
  }

  it('uses Server-Sent Events when the page has no WebSocket, and chats with a WebSocket user', async () => {
    const page = await signIn('nows', NO_WEBSOCKET);
    expect(await transportOf(page)).toBe('sse');
    expect(server.app.get(StreamSessions).size).toBe(1);
    await chatBothWays(page, 'nows');
  });

  it('falls back after fallbackAfterMs when the upgrade hangs, and remembers it for the session', async () => {
    const page = await signIn('hung', HANGING_WEBSOCKET);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __wsTries: number }).__wsTries),
    ).toBe(1);
    expect(await transportOf(page)).toBe('sse');
    // Same tab session: the next connection goes straight to SSE, no WebSocket attempt, no wait.
    await page.reload();
    await page.fill('#userId', 'hung');
    await page.click('#connect');
    const started = Date.now();
    await page.locator('#conn', { hasText: 'connected as hung' }).waitFor();
    expect(Date.now() - started).toBeLessThan(2500);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __wsTries: number }).__wsTries),
    ).toBe(0);
    await page.locator('#chatHead', { hasText: '# lobby' }).waitFor();
    await chatBothWays(page, 'hung');
  });

  it('works over the streamed response (POST /stream) too', async () => {
    const page = await signIn('streamer', NO_WEBSOCKET, 'stream');
    expect(await transportOf(page)).toBe('stream');
    await chatBothWays(page, 'streamer');
  });
});
