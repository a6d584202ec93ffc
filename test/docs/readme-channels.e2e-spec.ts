import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { browserDescribe, launchChromium } from '../support/chromium';
import { docBlock, REPO } from '../support/doc-blocks';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The README's channel walk-through, run as written: the token commands (`<!-- tested: readme-channel-tokens -->`)
 * sign a subscriber's and a publisher's token, and a publication reaches the subscriber; the browser snippet
 * (`<!-- tested: readme-channel-browser -->`) subscribes from the chat page's console in Chromium.
 */
const run = promisify(execFile);

/** Runs the README's token block in bash, in the repository, as a reader would (JWT_SECRET from the environment). */
async function readmeTokens(): Promise<{ sub: string; pub: string }> {
  const script = `set -euo pipefail\n${docBlock('README.md', 'readme-channel-tokens')}\nprintf '%s\\n%s\\n' "$SUB" "$PUB"`;
  const { stdout } = await run('bash', ['-c', script], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', JWT_SECRET: TEST_SECRET },
    timeout: 60_000,
  });
  const [sub, pub] = stdout.trim().split('\n');
  return { sub, pub };
}

describe('README: channels from the command line', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await startServer({ DEV_TOKENS: 'true' });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.close();
  });

  it('the token commands sign a subscriber and a publisher whose publication reaches the subscriber', async () => {
    const { sub, pub } = await readmeTokens();
    const subscriber = await TestClient.connect(server.wsUrl, sub);
    const publisher = await TestClient.connect(server.wsUrl, pub);
    clients.push(subscriber, publisher);
    expect((await subscriber.request('channel.subscribe', { channel: 'news.sport' })).event).toBe(
      'channel.subscribe',
    );
    const published = await publisher.request('channel.publish', {
      channel: 'news.sport',
      data: { score: '2-1' },
    });
    expect(published.data).toEqual({ offset: 1 });
    const pushed = await subscriber.next('channel.message');
    expect(pushed.data).toMatchObject({
      channel: 'news.sport',
      offset: 1,
      data: { score: '2-1' },
      userId: 'dave',
    });
  }, 90_000);
});

browserDescribe('README: channels in the browser console', () => {
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

  it('the snippet subscribes with a development token and prints what the channel receives', async () => {
    const page = await browser.newPage();
    try {
      const printed: string[] = [];
      page.on('console', (msg) => printed.push(msg.text()));
      await page.goto(server.url);
      await page.evaluate(
        `(async () => {\n${docBlock('README.md', 'readme-channel-browser')}\n})()`,
      );
      const publisher = await TestClient.connect(
        server.wsUrl,
        await server.token('dave', { publish: ['news.*'] }),
      );
      try {
        await publisher.request('channel.publish', { channel: 'news.sport', data: 'goal' });
        await page.waitForEvent('console', (msg) => msg.text().startsWith('news.sport'));
        expect(printed).toContain('news.sport 1 goal');
      } finally {
        await publisher.close();
      }
    } finally {
      await page.close();
    }
  });
});
