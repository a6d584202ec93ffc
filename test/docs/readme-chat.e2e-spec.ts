import type { Browser } from 'playwright-core';
import { browserDescribe, launchChromium } from '../support/chromium';
import { docBlock } from '../support/doc-blocks';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The README's chat walk-through, run as written in the chat page's console in Chromium: after the channel
 * snippet (`readme-channel-browser`, which makes `hub`), the chat one (`readme-chat-browser`) replies, edits,
 * reacts, searches and reads the unread counts; a second user sees the edit and mentions the first.
 */
jest.setTimeout(60_000);

browserDescribe('README: chat in the browser console', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer({ DEV_TOKENS: 'true' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the snippet sends, replies, edits, reacts, searches and lists the unread counts', async () => {
    const page = await browser.newPage();
    const frank = await TestClient.connect(server.wsUrl, await server.token('frank'));
    try {
      const printed: string[] = [];
      page.on('console', (msg) => printed.push(msg.text()));
      await frank.call('chat.join', { room: 'lobby' });
      await page.goto(server.url);
      await page.evaluate(
        `(async () => {\n${docBlock('README.md', 'readme-channel-browser')}\n${docBlock('README.md', 'readme-chat-browser')}\n})()`,
      );
      expect(printed).toContain('found 1');
      expect(printed.some((line) => line.startsWith('unread'))).toBe(true);
      const edited = await frank.next('chat.updated', 10_000);
      expect(edited.data).toMatchObject({ room: 'lobby', message: { text: 'Lunch at 12:30?' } });
      const reacted = await frank.next('chat.reacted', 10_000);
      expect(reacted.data).toMatchObject({ reaction: '👍', userId: 'erin', on: true, count: 1 });

      const mentioned = page.waitForEvent('console', (m) => m.text().startsWith('mentioned in'));
      await frank.call('chat.send', { room: 'lobby', text: '@erin see above' });
      expect((await mentioned).text()).toBe('mentioned in lobby by frank');
    } finally {
      await frank.close();
      await page.close();
    }
  });
});
