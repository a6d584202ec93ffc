import type { Browser, Page } from 'playwright-core';
import { browserDescribe, launchChromium, screenshotPath } from '../support/chromium';
import { startServer, type TestServer } from '../support/server';

/**
 * The chat page at GET / in a real browser: Debian's Chromium, driven by playwright-core (see support/chromium).
 */
const SCREENSHOT = screenshotPath('hubbub-chat.png');

jest.setTimeout(30_000);
const BROWSER_API_KEY = 'browser-test-api-key';

browserDescribe('chat page in a browser (GET /)', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ API_KEY: BROWSER_API_KEY });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Opens the page in its own browser context (own storage), signs in and waits until `lobby` is joined. */
  async function signIn(userId: string, name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1180, height: 720 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    await page.goto(server.url);
    await page.fill('#userId', userId);
    await page.fill('#name', name);
    await page.click('#connect');
    await page.locator('#conn', { hasText: `connected as ${userId}` }).waitFor();
    await page.locator('#chatHead', { hasText: '# lobby' }).waitFor();
    expect(problems).toEqual([]);
    return page;
  }

  it('serves the page and the SDK with the right content types', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('hubbub-client.js');
    const sdk = await fetch(`${server.url}/hubbub-client.js`);
    expect(sdk.status).toBe(200);
    expect(sdk.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(await sdk.text()).toContain('export class HubbubClient');
  });

  it('shows a notice when the server API sends the user a user.message', async () => {
    const carol = await signIn('carol', 'Carol');
    const res = await fetch(`${server.url}/api/users/carol/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BROWSER_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { text: 'Maintenance at 18:00 <b>soon</b>' } }),
    });
    expect(res.status).toBe(202);
    const notice = carol.locator('#messages .msg.notice');
    await notice.waitFor();
    expect(await notice.textContent()).toBe('notice from server: Maintenance at 18:00 <b>soon</b>');
    await carol.context().close();
  });

  it('two users chat in lobby: messages, members, status and typing reach the other page', async () => {
    const alice = await signIn('alice', 'Alice');
    const bob = await signIn('bob', 'Bob');

    // Each sees the other in the members list (bob from the join reply, alice through presence.join).
    await bob.locator('#members li[data-user-id="alice"]', { hasText: 'Alice' }).waitFor();
    await alice.locator('#members li[data-user-id="bob"]', { hasText: 'Bob' }).waitFor();

    // User text is shown as text, never parsed as HTML.
    const hello = 'Hi Bob! <b>not bold</b> <img src=x onerror="window.pwned=1">';
    await alice.fill('#text', hello);
    await alice.click('#send');
    const received = bob.locator('#messages .msg', { hasText: 'Hi Bob!' });
    await received.waitFor();
    expect(await received.locator('.who').textContent()).toBe('Alice');
    expect(await received.locator('.text').textContent()).toBe(hello);
    expect(await received.locator('.time').textContent()).toMatch(/\d{1,2}:\d{2}/);
    expect(await bob.locator('#messages b, #messages img').count()).toBe(0);
    expect(await bob.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();

    await bob.fill('#text', 'Hey Alice, good to see you here!');
    await bob.press('#text', 'Enter');
    await alice.locator('#messages .msg', { hasText: 'Hey Alice' }).waitFor();

    // Status from presence.update.
    await alice.selectOption('#status', 'away');
    await bob.locator('#members li[data-user-id="alice"] .dot.away').waitFor();
    expect(await bob.locator('#members li[data-user-id="alice"] .status').textContent()).toBe(
      'away',
    );

    // Typing indicator from chat.typing.
    await alice.locator('#text').pressSequentially('Let me check');
    await bob.locator('#typing', { hasText: 'Alice is typing' }).waitFor();

    await bob.screenshot({ path: SCREENSHOT });

    // A user who leaves disappears from the other's list (presence.leave).
    await alice.context().close();
    await bob.locator('#members li[data-user-id="alice"]').waitFor({ state: 'detached' });
    await bob.context().close();
  });

  it('explains when dev tokens are off, and then takes a pasted token', async () => {
    const prod = await startServer({ DEV_TOKENS: 'false' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(prod.url);
      await page.fill('#userId', 'carol');
      await page.click('#connect');
      await page.locator('#loginNote', { hasText: 'Dev tokens are off' }).waitFor();
      expect(await page.locator('#token').isVisible()).toBe(true);
      await page.fill('#token', await prod.token('carol', { name: 'Carol' }));
      await page.click('#connect');
      await page.locator('#conn', { hasText: 'connected as carol' }).waitFor();
      await page.locator('#members li[data-user-id="carol"]', { hasText: 'Carol (you)' }).waitFor();
    } finally {
      await context.close();
      await prod.close();
    }
  });
});
