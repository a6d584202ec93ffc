import type { Browser, Page } from 'playwright-core';
import { browserDescribe, launchChromium, screenshotPath } from '../support/chromium';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/** The admin dashboard at GET /admin in a real browser: sign in with the API key, watch, act. */
jest.setTimeout(60_000);

const API_KEY = 'admin-dashboard-key-0123456789';

browserDescribe('admin dashboard in a browser (GET /admin)', () => {
  let server: TestServer;
  let browser: Browser;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startServer({ API_KEY, NODE_ID: `admin-${rid()}` });
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const connect = async (sub: string, claims: Record<string, unknown> = {}) => {
    const client = await TestClient.connect(server.wsUrl, await server.token(sub, claims));
    clients.push(client);
    return client;
  };

  /** A fresh page (own storage); any page error or console error fails the test at the end. */
  async function openDashboard(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      // Expected refusals: the wrong key's 401, and the channels listing's 404 where that route is absent.
      const expected = /status of (401|404)/.test(msg.text());
      if (msg.type() === 'error' && !expected) problems.push(msg.text());
    });
    await page.goto(`${server.url}/admin`);
    return { page, problems };
  }

  async function signIn(page: Page, key = API_KEY): Promise<void> {
    await page.fill('#apiKey', key);
    await page.click('#signIn button[type=submit]');
  }

  const nodeRow = (page: Page) => page.locator(`#nodes tr[data-node="${server.config.nodeId}"]`);

  it('refuses a wrong key, and keeps the right one in sessionStorage only', async () => {
    const { page, problems } = await openDashboard();
    await signIn(page, 'wrong-key');
    await page.locator('#signInNote', { hasText: 'API key was refused' }).waitFor();
    expect(await page.locator('#dashboard').isHidden()).toBe(true);

    await signIn(page);
    await nodeRow(page).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('hubbub.apiKey'))).toBe(API_KEY);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).toBe('{}');
    expect(await page.context().cookies()).toEqual([]);

    // A reload in the same tab stays signed in; signing out forgets the key.
    await page.reload();
    await nodeRow(page).waitFor();
    await page.click('#signOut');
    expect(await page.evaluate(() => sessionStorage.getItem('hubbub.apiKey'))).toBeNull();
    expect(await page.locator('#signIn').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a connection appear live, the room, and acts: broadcast, publish, disconnect', async () => {
    const { page, problems } = await openDashboard();
    await signIn(page);
    const row = nodeRow(page);
    await row.waitFor();
    expect(await row.locator('td').nth(4).textContent()).toBe('ready');
    expect(await row.locator('td.version').count()).toBe(0);

    const room = `ops-${rid()}`;
    const alice = await connect(`alice-${rid()}`, { name: 'Alice' });
    const listener = await connect(`bob-${rid()}`);
    await alice.call('chat.join', { room });
    await alice.call('chat.send', { room, text: 'hello from <b>alice</b>' });
    await listener.call('channel.subscribe', { channel: 'alerts' });

    // Live: the instance's connection count and the room appear without a reload.
    await row.locator('td.connections', { hasText: /^2$/ }).waitFor();
    await page.fill('#roomSearch', room.slice(0, 8));
    const roomRow = page.locator(`#rooms tr[data-name="${room}"]`);
    await roomRow.waitFor();
    expect(await roomRow.locator('td').nth(1).textContent()).toBe('1');
    // Channels with their cluster-wide subscriber counts (GET /api/channels).
    const channelRow = page.locator('#channels tr[data-name="alerts"]');
    await channelRow.waitFor();
    expect(await channelRow.locator('td').nth(1).textContent()).toBe('1');

    // A room's members and recent messages; user text stays text.
    await roomRow.click();
    await page.locator('#roomMembers li', { hasText: 'Alice' }).waitFor();
    await page.locator('#roomMessages li', { hasText: 'hello from <b>alice</b>' }).waitFor();
    expect(await page.locator('#roomMessages b').count()).toBe(0);
    await page.locator('#connChart canvas').first().waitFor();
    await page.locator('#msgChart canvas').first().waitFor();
    await page.screenshot({ path: screenshotPath('admin-dashboard.png'), fullPage: true });

    // Broadcast reaches every connection.
    await page.fill('#broadcastData', '{"notice":"maintenance at noon"}');
    await page.click('#broadcastForm button');
    const pushed = await listener.next('broadcast');
    expect(pushed.data).toEqual({ data: { notice: 'maintenance at noon' }, from: 'server' });
    await page.locator('#actionNote', { hasText: 'Broadcast sent' }).waitFor();

    // Publish to a channel.
    await page.fill('#pubChannel', 'alerts');
    await page.fill('#pubData', 'disk almost full');
    await page.click('#publishForm button');
    expect((await listener.next('channel.message')).data).toMatchObject({
      channel: 'alerts',
      data: 'disk almost full',
    });

    // Look a user up, then disconnect them.
    const aliceId = (alice.frames.find((f) => f.event === 'welcome')?.data as { userId: string })
      .userId;
    await page.fill('#userId', aliceId);
    await page.click('#userForm button');
    await page.locator('#userResult', { hasText: 'online' }).waitFor();
    expect(await page.locator('#userResult .user-connections').textContent()).toBe(' 1 connection');
    await page.click('#disconnectUser');
    expect(await alice.waitClose()).toBe(4403);
    await page.locator('#userResult', { hasText: 'offline' }).waitFor();
    await row.locator('td.connections', { hasText: /^1$/ }).waitFor();
    await page.screenshot({ path: screenshotPath('admin-dashboard-after-actions.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('serves the page, its script and uPlot as files (no inline script)', async () => {
    const html = await (await fetch(`${server.url}/admin`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    for (const [path, type] of [
      ['/admin', /^text\/html/],
      ['/admin/admin.js', /^application\/javascript/],
      ['/admin/admin.css', /^text\/css/],
      ['/admin/uplot.iife.min.js', /^application\/javascript/],
      ['/admin/uplot.min.css', /^text\/css/],
    ] as const) {
      const res = await fetch(`${server.url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toMatch(type);
    }
  });

  it('is not there while the API is off, and /admin says to set API_KEY', async () => {
    const off = await startServer();
    try {
      for (const path of ['/admin', '/admin/admin.js', '/admin/uplot.iife.min.js']) {
        expect([path, (await fetch(`${off.url}${path}`)).status]).toEqual([path, 404]);
      }
      // The page itself says what turns it on.
      const page = await fetch(`${off.url}/admin`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('Set <code>API_KEY</code>');
    } finally {
      await off.close();
    }
  });
});
