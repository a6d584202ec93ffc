import type { Browser, Page } from 'playwright-core';
import { browserDescribe, launchChromium, screenshotPath } from '../support/chromium';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The admin dashboard's room view in Chromium, moderating through the server API: roles, ban, mute, unban, kick,
 * slow mode, and the audit log that records each; the users on the receiving end get the pushes.
 */
jest.setTimeout(60_000);

const API_KEY = 'admin-moderation-key-0123456789';

browserDescribe('admin dashboard in a browser: room moderation', () => {
  let server: TestServer;
  let browser: Browser;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startServer({ API_KEY });
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

  /** Signs in and opens the room's view; page errors and console errors fail the test at the end. */
  async function openRoom(room: string): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    await page.goto(`${server.url}/admin`);
    await page.fill('#apiKey', API_KEY);
    await page.click('#signIn button[type=submit]');
    await page.fill('#roomSearch', room);
    await page.locator(`#rooms tr[data-name="${room}"]`).click();
    await page.locator('#roomName', { hasText: room }).waitFor();
    return { page, problems };
  }

  it('sets a role, bans, mutes, unbans and kicks; the audit log lists each action', async () => {
    const room = `guarded-${rid()}`;
    const [annId, bobId, carolId] = [`ann${rid()}`, `bob${rid()}`, `carol${rid()}`];
    const ann = await connect(annId);
    const bob = await connect(bobId);
    await ann.call('chat.join', { room });
    await bob.call('chat.join', { room });
    const { page, problems } = await openRoom(room);
    await page.locator(`#roomMembers li[data-user-id="${bobId}"]`).waitFor();
    await page.locator('#roomRoles li', { hasText: 'no owner or moderator' }).waitFor();

    // A role, given by user id: listed, and pushed to the room.
    await page.fill('#roleUser', annId);
    await page.selectOption('#roleValue', 'moderator');
    await page.click('#roleForm button[type=submit]');
    expect((await bob.next('room.role', 10_000)).data).toEqual({
      room,
      userId: annId,
      role: 'moderator',
    });
    await page
      .locator(`#roomRoles li[data-user-id="${annId}"]`, { hasText: 'moderator' })
      .waitFor();

    // Ban from the member list for the chosen duration: Bob leaves the room, and the ban is listed.
    await page.selectOption('#restrictFor', '0');
    await page.getByRole('button', { name: `Ban ${bobId}` }).click();
    expect((await bob.next('chat.left', 10_000)).data).toEqual({ room, reason: 'banned' });
    const banned = page.locator(`#roomRestrictions li[data-user-id="${bobId}"][data-kind="ban"]`);
    await banned.waitFor();
    expect(await banned.textContent()).toContain('for good');
    const refused = await bob.request('chat.join', { room });
    expect(refused.data).toMatchObject({ code: 'forbidden', details: { reason: 'banned' } });

    // A mute by user id for someone who never came (unknown users are fine), for an hour.
    await page.fill('#restrictUser', carolId);
    await page.selectOption('#restrictFor', '3600000');
    await page.click('#restrictForm button[data-action="mute"]');
    const muted = page.locator(`#roomRestrictions li[data-user-id="${carolId}"][data-kind="mute"]`);
    await muted.waitFor();
    expect(await muted.textContent()).toContain('until');

    // Unban: the entry goes, and Bob may join again.
    await banned.getByRole('button', { name: `Unban ${bobId}` }).click();
    await banned.waitFor({ state: 'detached' });
    await bob.call('chat.join', { room });

    // Kick from the member list.
    await page.locator(`#roomMembers li[data-user-id="${bobId}"]`).waitFor();
    await page.getByRole('button', { name: `Kick ${bobId}` }).click();
    expect((await bob.next('chat.left', 10_000)).data).toEqual({ room, reason: 'kicked' });
    await page.locator('#roomNote', { hasText: `Kicked ${bobId}` }).waitFor();

    // Slow mode, and the audit log, newest first, every action by the server API.
    await page.selectOption('#slowModeValue', '30000');
    await page.click('#slowModeForm button[type=submit]');
    await page.locator('#settingsNow', { hasText: 'slow mode: 30000 ms' }).waitFor();
    await page.locator('#roomAudit tbody tr[data-action="settings"]').waitFor();
    const actions = await page
      .locator('#roomAudit tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(actions).toEqual(['settings', 'kick', 'unban', 'mute', 'ban', 'role']);
    expect(
      await page.locator('#roomAudit tbody tr[data-action="ban"] td').nth(3).textContent(),
    ).toBe('server');
    await page.screenshot({ path: screenshotPath('admin-moderation.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows edited messages and tombstones, and deletes a message through the server API', async () => {
    const room = `edits-${rid()}`;
    const ann = await connect(`ann${rid()}`);
    const bob = await connect(`bob${rid()}`);
    await ann.call('chat.join', { room });
    await bob.call('chat.join', { room });
    const typo = (await ann.call('chat.send', { room, text: 'teh plan' })).message;
    const gone = (await ann.call('chat.send', { room, text: 'a secret' })).message;
    const spam = (await bob.call('chat.send', { room, text: 'buy cheap watches' })).message;
    await ann.call('chat.edit', { room, seq: typo.seq, text: 'the plan' });
    await ann.call('chat.delete', { room, seq: gone.seq });

    const { page, problems } = await openRoom(room);
    const item = (seq: number) => page.locator(`#roomMessages li[data-seq="${seq}"]`);
    await item(typo.seq).locator('.edited').waitFor();
    expect(await item(typo.seq).locator('.text').textContent()).toBe('the plan');
    expect(await item(gone.seq).locator('.text').textContent()).toBe('message deleted');
    expect(await item(gone.seq).getAttribute('class')).toBe('deleted');
    expect(await item(gone.seq).getByRole('button').count()).toBe(0);

    await item(spam.seq)
      .getByRole('button', { name: `Delete message #${spam.seq} of ` })
      .click();
    expect((await ann.next('chat.deleted', 10_000)).data).toEqual({ room, seq: spam.seq });
    await item(spam.seq).locator('.tombstone').waitFor();
    expect(await page.locator('#roomMessages').textContent()).not.toContain('cheap watches');
    // The moderator's deletion is in the room's audit log, by the server API.
    const entry = page.locator('#roomAudit tbody tr[data-action="delete"]');
    await entry.waitFor();
    expect(await entry.locator('td').nth(3).textContent()).toBe('server');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('answers the dashboard’s moderation read with 400 for a bad room name and 401 without the key', async () => {
    const bad = await fetch(
      `${server.url}/api/rooms/${encodeURIComponent('no spaces')}/moderation`,
      {
        headers: { authorization: `Bearer ${API_KEY}` },
      },
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string[] }).message.join()).toContain('room');
    const anonymous = await fetch(`${server.url}/api/rooms/lobby/moderation`);
    expect(anonymous.status).toBe(401);
    const kick = await fetch(`${server.url}/api/rooms/lobby/kicks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: '' }),
    });
    expect(kick.status).toBe(400);
  });
});
