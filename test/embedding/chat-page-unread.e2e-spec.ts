import type { Browser, Page } from 'playwright-core';
import { browserDescribe, launchChromium, openChatPage } from '../support/chromium';
import { rid } from '../support/fixtures';
import { until } from '../support/redis-processes';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The chat page's room list in Chromium: the rooms the user has read, each with its unread badge from
 * `chat.unread`; opening a room clears its badge and moves the read marker on the server (other devices agree).
 */
jest.setTimeout(60_000);

browserDescribe('chat page in a browser: room list with unread badges', () => {
  let server: TestServer;
  let browser: Browser;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const connect = async (sub: string) => {
    const client = await TestClient.connect(server.wsUrl, await server.token(sub));
    clients.push(client);
    return client;
  };

  async function open(userId: string, room: string): Promise<{ page: Page; problems: string[] }> {
    return openChatPage(browser, server.url, { userId, room });
  }

  it('lists the rooms read, shows what came meanwhile as a badge, and clears it when the room is opened', async () => {
    const [here, there] = [`here-${rid()}`, `there-${rid()}`];
    const carolId = `carol${rid()}`;
    const dave = await connect(`dave${rid()}`);
    await dave.call('chat.join', { room: there });
    await dave.call('chat.send', { room: there, text: 'first' });

    // Carol reads `there` (her read marker), then moves to `here`: `there` stays listed, with nothing unread.
    const { page, problems } = await open(carolId, there);
    await page.locator('#messages li.msg', { hasText: 'first' }).waitFor();
    await page.fill('#room', here);
    await page.click('#join');
    await page.locator('#chatHead', { hasText: `# ${here}` }).waitFor();
    const entry = page.locator(`#roomList li[data-room="${there}"]`);
    await entry.waitFor(); // listed once the server holds her marker there (the list is chat.unread's)
    expect(await entry.locator('.badge').count()).toBe(0);
    expect(await page.locator(`#roomList li[data-room="${here}"][class~="current"]`).count()).toBe(
      1,
    );

    // Two messages while she is elsewhere: after a reload (the page asks chat.unread again) the badge says 2.
    await dave.call('chat.send', { room: there, text: 'second' });
    await dave.call('chat.send', { room: there, text: 'third' });
    await page.reload();
    await page.locator('#chatHead', { hasText: `# ${here}` }).waitFor();
    await entry.locator('.badge.unread', { hasText: /^2$/ }).waitFor();
    expect(await entry.getByRole('button').getAttribute('aria-label')).toBe(`${there}, 2 unread`);

    // Opening it shows the messages and clears the badge; the marker moved on the server.
    await entry.getByRole('button').click();
    await page.locator('#chatHead', { hasText: `# ${there}` }).waitFor();
    await page.locator('#messages li.msg', { hasText: 'third' }).waitFor();
    expect(await entry.getAttribute('class')).toBe('current');
    expect(await entry.locator('.badge').count()).toBe(0);
    const otherDevice = await connect(carolId);
    await until(async () => {
      const { rooms } = await otherDevice.call('chat.unread', {});
      return rooms.some(
        (r: { room: string; unread: number; lastRead: number }) =>
          r.room === there && r.unread === 0 && r.lastRead === 3,
      );
    }, 'carol’s read marker at the last message of the room she opened');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('serves the SDK’s and the page’s modules as JavaScript files, with the CSP and no inline script', async () => {
    for (const file of [
      'hubbub-chat.js',
      'chat-page-dom.js',
      'chat-page-messages.js',
      'chat-page-rooms.js',
      'chat-page-moderation.js',
    ]) {
      const res = await fetch(`${server.url}/${file}`);
      expect([file, res.status]).toEqual([file, 200]);
      expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await res.text()).toMatch(/^(import|export|\/\/)/m);
    }
    expect((await fetch(`${server.url}/chat-page-nothing.js`)).status).toBe(404);
    const html = await (await fetch(server.url)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});
