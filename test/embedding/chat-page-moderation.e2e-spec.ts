import type { Browser, Page } from 'playwright-core';
import { browserDescribe, launchChromium, openChatPage, screenshotPath } from '../support/chromium';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The chat page (GET /) in Chromium with room moderation: an owner sees roles and the moderator actions, a member
 * sees none; a mute and a ban are explained to the user they hit, and a moderator deletes another's message.
 */
jest.setTimeout(60_000);

browserDescribe('chat page in a browser: moderator actions', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: TestClient;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
    admin = await TestClient.connect(
      server.wsUrl,
      await server.token(`root${rid()}`, { roles: ['admin'] }),
    );
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
  });

  async function open(
    userId: string,
    name: string,
    room: string,
  ): Promise<{ page: Page; problems: string[] }> {
    return openChatPage(browser, server.url, { userId, name, room });
  }

  const memberRow = (page: Page, userId: string) =>
    page.locator(`#members li[data-user-id="${userId}"]`);

  it('an owner mutes and bans a member; the member is told why, and sees no moderator actions', async () => {
    const room = `modroom-${rid()}`;
    const [olgaId, benId] = [`olga${rid()}`, `ben${rid()}`];
    await admin.call('room.role', { room, userId: olgaId, role: 'owner' });
    const olga = await open(olgaId, 'Olga', room);
    const ben = await open(benId, 'Ben', room);

    // Roles in the member list; only the owner gets the moderation panel and the actions.
    await memberRow(ben.page, olgaId).locator('.role.owner').waitFor();
    await olga.page.locator('#modPanel').waitFor();
    expect(await ben.page.locator('#modPanel').isHidden()).toBe(true);
    expect(await memberRow(ben.page, olgaId).locator('.mod-actions').count()).toBe(0);
    expect(await olga.page.locator('#slowModeRow').isVisible()).toBe(true);

    // Mute for 10 minutes (the panel's default): Ben's next message is refused, with until when.
    await memberRow(olga.page, benId).hover();
    await memberRow(olga.page, benId).getByRole('button', { name: 'Mute Ben' }).click();
    await olga.page.locator('#messages .msg.system', { hasText: 'Ben is muted until' }).waitFor();
    await ben.page.fill('#text', 'why?');
    await ben.page.click('#send');
    await ben.page
      .locator('#messages .msg.system', { hasText: `Not sent: you are muted in ${room} until` })
      .waitFor();

    // Ban for good: Ben is out of the room, told why, and his join is refused with the reason.
    await olga.page.selectOption('#modDuration', '0');
    await memberRow(olga.page, benId).hover();
    await memberRow(olga.page, benId).getByRole('button', { name: 'Ban Ben' }).click();
    await ben.page
      .locator('#messages .msg.removed', { hasText: 'you are banned from it' })
      .waitFor();
    expect(await ben.page.locator('#text').isDisabled()).toBe(true);
    await memberRow(olga.page, benId).waitFor({ state: 'detached' });
    await ben.page.click('#join');
    await ben.page
      .locator('#messages .msg.system', {
        hasText: `Could not join ${room}: you are banned from ${room} for good`,
      })
      .waitFor();
    await olga.page.screenshot({ path: screenshotPath('hubbub-chat-moderation.png') });

    // Unban from the panel, by user id: Ben may join again.
    await olga.page.fill('#modUser', benId);
    await olga.page.getByRole('button', { name: 'Unban' }).click();
    await olga.page
      .locator('#messages .msg.system', { hasText: `${benId} may join again` })
      .waitFor();
    await ben.page.click('#join');
    await ben.page.locator('#chatHead', { hasText: `# ${room}` }).waitFor();
    expect(olga.problems).toEqual([]);
    expect(ben.problems).toEqual([]);
    await olga.page.context().close();
    await ben.page.context().close();
  });

  it('a moderator deletes another user’s message; a member gets no delete button on others’ messages', async () => {
    const room = `modroom-${rid()}`;
    const [olgaId, benId] = [`olga${rid()}`, `ben${rid()}`];
    await admin.call('room.role', { room, userId: olgaId, role: 'moderator' });
    const olga = await open(olgaId, 'Olga', room);
    const ben = await open(benId, 'Ben', room);
    await olga.page.locator('#modPanel').waitFor();

    await olga.page.fill('#text', 'please keep it civil');
    await olga.page.click('#send');
    const civil = ben.page.locator('#messages li.msg', { hasText: 'please keep it civil' });
    await civil.waitFor();
    expect(await civil.locator('.act-delete').count()).toBe(0);

    await ben.page.fill('#text', 'buy cheap watches');
    await ben.page.click('#send');
    const spam = olga.page.locator('#messages li.msg', { hasText: 'buy cheap watches' });
    await spam.hover();
    await spam.getByRole('button', { name: 'Delete Ben’s message' }).click();
    await ben.page
      .locator('#messages li.msg.deleted .text', { hasText: 'message deleted' })
      .waitFor();
    expect(await ben.page.locator('#messages').textContent()).not.toContain('cheap watches');
    const info = await admin.call('room.info', { room });
    expect(info.moderators).toEqual([olgaId]);
    for (const p of [olga, ben]) {
      expect(p.problems).toEqual([]);
      await p.page.context().close();
    }
  });

  it('an owner makes a member moderator; the new moderator sees the actions, and a kick takes a user out', async () => {
    const room = `modroom-${rid()}`;
    const [olgaId, maxId, kimId] = [`olga${rid()}`, `max${rid()}`, `kim${rid()}`];
    await admin.call('room.role', { room, userId: olgaId, role: 'owner' });
    const olga = await open(olgaId, 'Olga', room);
    const max = await open(maxId, 'Max', room);
    const kim = await open(kimId, 'Kim', room);

    await memberRow(olga.page, maxId).hover();
    await memberRow(olga.page, maxId).getByRole('button', { name: 'Make Max moderator' }).click();
    await memberRow(max.page, maxId).locator('.role.moderator').waitFor();
    await max.page.locator('#modPanel').waitFor();
    // A moderator may not act on the owner, nor change the room's settings.
    expect(await memberRow(max.page, olgaId).locator('.mod-actions').count()).toBe(0);
    expect(await max.page.locator('#slowModeRow').isHidden()).toBe(true);

    await memberRow(max.page, kimId).hover();
    await memberRow(max.page, kimId).getByRole('button', { name: 'Kick Kim' }).click();
    await kim.page
      .locator('#messages .msg.removed', { hasText: 'a moderator removed you' })
      .waitFor();
    await memberRow(olga.page, kimId).waitFor({ state: 'detached' });
    for (const p of [olga, max, kim]) {
      expect(p.problems).toEqual([]);
      await p.page.context().close();
    }
  });
});
