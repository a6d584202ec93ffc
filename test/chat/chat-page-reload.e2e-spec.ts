import type { Browser } from 'playwright-core';
import { browserDescribe, launchChromium } from '../support/chromium';
import { startServer, type TestServer } from '../support/server';

/** The chat page at GET / comes back connected after a reload, with the saved name, in the room it was in. */
jest.setTimeout(60_000);

browserDescribe('chat page after a reload', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('connects again by itself with the saved user id and name, and rejoins the room', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    try {
      await page.goto(server.url);
      // A first visit waits for the user.
      expect(await page.locator('#conn').textContent()).toBe('offline');
      await page.fill('#userId', 'reloader');
      await page.fill('#name', 'Rita');
      await page.click('#connect');
      await page.locator('#chatHead', { hasText: '# lobby' }).waitFor();
      await page.fill('#room', 'kitchen');
      await page.click('#join');
      await page.locator('#chatHead', { hasText: '# kitchen' }).waitFor();

      await page.reload();
      await page.locator('#conn', { hasText: 'connected as reloader' }).waitFor();
      await page.locator('#chatHead', { hasText: '# kitchen' }).waitFor();
      await page
        .locator('#members li[data-user-id="reloader"]', { hasText: 'Rita (you)' })
        .waitFor();
      expect(await page.inputValue('#name')).toBe('Rita');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
