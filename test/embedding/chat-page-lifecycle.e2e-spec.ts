import type { Browser, Page } from 'playwright-core';
import { browserDescribe, launchChromium, openChatPage, screenshotPath } from '../support/chromium';
import { rid } from '../support/fixtures';
import { until } from '../support/redis-processes';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';
import { ClientRegistry } from '../../src/ws/client-registry.service';
import { OutboundWriter } from '../../src/ws/outbound-writer';

/**
 * The chat page (GET /) in Chromium with the chat lifecycle: edit and delete of one's own messages, reactions,
 * replies, the mention highlight and the unread badges of the room list, as two users see them.
 */
jest.setTimeout(60_000);

browserDescribe(
  'chat page in a browser: edit, delete, reactions, replies, mentions, unread',
  () => {
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

    /** A page signed in as `userId` with `room` joined; page errors and console errors fail the test at the end. */
    async function open(
      userId: string,
      name: string,
      room: string,
    ): Promise<{ page: Page; problems: string[] }> {
      return openChatPage(browser, server.url, {
        userId,
        name,
        room,
        prepare: (page) => page.evaluate((r) => localStorage.setItem('hubbub.room', r), room),
      });
    }

    const message = (page: Page, text: string) =>
      page.locator('#messages li.msg', { hasText: text });

    async function say(page: Page, text: string): Promise<void> {
      await page.fill('#text', text);
      await page.click('#send');
      await message(page, text).waitFor();
    }

    it('edits and deletes one’s own message; the other page shows “(edited)” and then a tombstone', async () => {
      const room = `edit-${rid()}`;
      const alice = await open(`alice${rid()}`, 'Alice', room);
      const bob = await open(`bob${rid()}`, 'Bob', room);
      await say(alice.page, 'See you at 5');
      await message(bob.page, 'See you at 5').waitFor();

      // Only one's own messages offer Edit; Bob's view of Alice's message has no Edit and no Delete.
      expect(await message(bob.page, 'See you at 5').locator('.act-edit').count()).toBe(0);
      expect(await message(bob.page, 'See you at 5').locator('.act-delete').count()).toBe(0);

      const seq = await message(alice.page, 'See you at 5').getAttribute('data-seq');
      const mine = alice.page.locator(`#messages li.msg[data-seq="${seq}"]`); // its text becomes a form
      await mine.hover();
      await mine.getByRole('button', { name: 'Edit your message' }).click();
      await mine.getByRole('textbox', { name: 'New text of your message' }).fill('See you at 6');
      await mine.getByRole('button', { name: 'Save' }).click();
      const edited = message(bob.page, 'See you at 6');
      await edited.locator('.edited', { hasText: '(edited)' }).waitFor();
      expect(await message(bob.page, 'See you at 5').count()).toBe(0);

      const again = message(alice.page, 'See you at 6');
      await again.hover();
      await again.getByRole('button', { name: 'Delete your message' }).click();
      const tombstone = bob.page.locator('#messages li.msg.deleted');
      await tombstone.waitFor();
      expect(await tombstone.locator('.text').textContent()).toBe('message deleted');
      expect(await bob.page.locator('#messages').textContent()).not.toContain('See you at 6');
      await alice.page.locator('#messages li.msg.deleted').waitFor();
      expect(alice.problems).toEqual([]);
      expect(bob.problems).toEqual([]);
      await alice.page.context().close();
      await bob.page.context().close();
    });

    it('after a reconnect, shows the edits and deletions made while it was away', async () => {
      const room = `away-${rid()}`;
      const bobId = `bob${rid()}`;
      const alice = await open(`alice${rid()}`, 'Alice', room);
      const bob = await open(bobId, 'Bob', room);
      await say(alice.page, 'meet at 5');
      await say(alice.page, 'bring snacks');
      await message(bob.page, 'bring snacks').waitFor();

      // Bob's page loses its connection (token expired); its new token is held back until Alice has changed things.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let asked!: () => void;
      const tokenAsked = new Promise<void>((resolve) => (asked = resolve));
      await bob.page.route('**/dev/token', async (route) => {
        asked();
        await held;
        await route.continue();
      });
      const writer = server.app.get(OutboundWriter);
      for (const conn of [...server.app.get(ClientRegistry).forUser(bobId)])
        writer.close(conn, 4401, 'token expired');
      await tokenAsked;
      const first = message(alice.page, 'meet at 5');
      await first.hover();
      await first.getByRole('button', { name: 'Edit your message' }).click();
      await alice.page.getByRole('textbox', { name: 'New text of your message' }).fill('meet at 6');
      await alice.page.getByRole('button', { name: 'Save' }).click();
      await message(alice.page, 'meet at 6').waitFor();
      const second = message(alice.page, 'bring snacks');
      await second.hover();
      await second.getByRole('button', { name: 'Delete your message' }).click();
      await alice.page.locator('#messages li.msg.deleted').waitFor();

      release();
      await bob.page.locator('#conn', { hasText: `connected as ${bobId}` }).waitFor();
      await message(bob.page, 'meet at 6').locator('.edited').waitFor();
      await bob.page.locator('#messages li.msg.deleted').waitFor();
      expect(await bob.page.locator('#messages').textContent()).not.toContain('bring snacks');
      expect(alice.problems).toEqual([]);
      await alice.page.context().close();
      await bob.page.context().close();
    });

    it('reacts and replies: the other page shows the count and the quoted message; a mention is highlighted', async () => {
      const room = `react-${rid()}`;
      const bobId = `bob${rid()}`;
      const alice = await open(`alice${rid()}`, 'Alice', room);
      const bob = await open(bobId, 'Bob', room);
      await say(alice.page, 'Lunch at noon?');

      const question = message(bob.page, 'Lunch at noon?');
      await question.waitFor();
      await question.hover();
      await question.getByRole('button', { name: 'React with 👍' }).click();
      await message(alice.page, 'Lunch at noon?')
        .locator('button.reaction[data-reaction="👍"]', { hasText: '👍 1' })
        .waitFor();
      await question
        .locator('button.reaction[data-reaction="👍"][aria-pressed="true"]', { hasText: '👍 1' })
        .waitFor();

      await question.hover();
      await question.getByRole('button', { name: 'Reply to Alice' }).click();
      await bob.page
        .locator('#replyBar', { hasText: 'Replying to Alice: Lunch at noon?' })
        .waitFor();
      await say(bob.page, 'Yes, count me in');
      expect(await bob.page.locator('#replyBar').isHidden()).toBe(true);
      const reply = message(alice.page, 'Yes, count me in');
      await reply.waitFor();
      expect(await reply.locator('.reply-to').textContent()).toBe('↪ Alice: Lunch at noon?');

      await say(alice.page, `@${bobId} bring the menu`);
      await bob.page.locator('#messages li.msg.mention', { hasText: 'bring the menu' }).waitFor();
      expect(await alice.page.locator('#messages li.msg.mention').count()).toBe(0);
      await bob.page.screenshot({ path: screenshotPath('hubbub-chat-lifecycle.png') });
      expect(alice.problems).toEqual([]);
      expect(bob.problems).toEqual([]);
      await alice.page.context().close();
      await bob.page.context().close();
    });

    it('shows an unread badge and a mention mark on a room not shown, and clears them when it is opened', async () => {
      const [here, there] = [`here-${rid()}`, `there-${rid()}`];
      const carolId = `carol${rid()}`;
      const dave = await TestClient.connect(server.wsUrl, await server.token(`dave${rid()}`));
      clients.push(dave);
      await dave.call('chat.join', { room: there });
      await dave.call('chat.send', { room: there, text: 'first' });

      // Carol reads `there` (her read marker), then moves to `here`.
      const carol = await open(carolId, 'Carol', there);
      await message(carol.page, 'first').waitFor();
      await carol.page.fill('#room', here);
      await carol.page.click('#join');
      await carol.page.locator('#chatHead', { hasText: `# ${here}` }).waitFor();
      // Listed once the server has her read marker there (the list comes from chat.unread).
      await carol.page.locator(`#roomList li[data-room="${there}"]`).waitFor();

      await dave.call('chat.send', { room: there, text: 'second' });
      await dave.call('chat.send', { room: there, text: `@${carolId} are you there?` });
      const entry = carol.page.locator(`#roomList li[data-room="${there}"]`);
      await entry.locator('.badge.unread', { hasText: '2' }).waitFor();
      await entry.locator('.badge.mention').waitFor();
      expect(await entry.getByRole('button').getAttribute('aria-label')).toBe(
        `${there}, 2 unread, 1 mention`,
      );

      await entry.getByRole('button').click();
      await carol.page.locator('#chatHead', { hasText: `# ${there}` }).waitFor();
      await carol.page.locator('#messages li.msg.mention', { hasText: 'are you there?' }).waitFor();
      await entry.locator('.badge').waitFor({ state: 'detached' });
      // The read marker moved on the server: carol's other devices count nothing unread there.
      const other = await TestClient.connect(server.wsUrl, await server.token(carolId));
      clients.push(other);
      await until(async () => {
        const { rooms } = await other.call('chat.unread', {});
        return rooms.some(
          (r: { room: string; unread: number }) => r.room === there && r.unread === 0,
        );
      }, 'carol’s read marker of the room she opened');
      expect(carol.problems).toEqual([]);
      await carol.page.context().close();
    });
  },
);
