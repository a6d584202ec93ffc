import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`) driven by playwright-core, which never downloads a browser.
 * Without it a browser suite prints one line and is skipped, unless REQUIRE_SERVICES=1 where it fails.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of the browser tests (gitignored), for a person to look at. */
export const SCREENSHOT_DIR = join(__dirname, '../../test-output');

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, name);
}

export function browserDescribe(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) return describe(name, fn);
  if (process.env.REQUIRE_SERVICES !== '1') {
    process.stderr.write(
      `skipping browser tests: ${CHROMIUM} not found (apt-get install chromium)\n`,
    );
    return describe.skip(name, fn);
  }
  describe(name, () => {
    test(`Chromium is installed at ${CHROMIUM} (required by REQUIRE_SERVICES=1)`, () => {
      throw new Error(
        `${CHROMIUM} not found and REQUIRE_SERVICES=1: apt-get install chromium, or set CHROMIUM_PATH`,
      );
    });
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A new page on the chat page (`GET /` of `url`), signed in as `userId` (display name `name`, when given) with
 * `room` joined; `prepare` runs on the page before the form is filled. Page errors and console errors are collected
 * in `problems`, for the test to check at its end.
 */
export async function openChatPage(
  browser: Browser,
  url: string,
  who: { userId: string; name?: string; room: string; prepare?: (page: Page) => Promise<void> },
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  await page.goto(url);
  await who.prepare?.(page);
  await page.fill('#userId', who.userId);
  if (who.name !== undefined) await page.fill('#name', who.name);
  await page.fill('#room', who.room);
  await page.click('#connect');
  await page.locator('#chatHead', { hasText: `# ${who.room}` }).waitFor();
  return { page, problems };
}
