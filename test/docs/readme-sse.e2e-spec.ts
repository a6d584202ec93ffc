import { spawn } from 'node:child_process';
import { SubscriptionIndex } from '../../src/fanout/subscription-index';
import { channelTopic } from '../../src/protocol/topics';
import { docBlock, REPO } from '../support/doc-blocks';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The README's `curl -N` block (`<!-- tested: readme-sse-curl -->`), run as written (only `localhost:3000`
 * replaced by the test server's address): a dev token, then `GET /sse?channels=…`, which receives publications
 * with no frame sent.
 */
describe('README: SSE with curl', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DEV_TOKENS: 'true' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('receives the welcome, then publications of both channels', async () => {
    const script = docBlock('README.md', 'readme-sse-curl').replaceAll(
      'localhost:3000',
      `127.0.0.1:${server.port}`,
    );
    const curl = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    let out = '';
    const seen = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in: ${out}`)), 15_000);
        const check = (): void => {
          if (!out.includes(text)) return;
          clearTimeout(timer);
          curl.stdout.off('data', check);
          resolve();
        };
        curl.stdout.on('data', check);
        check();
      });
    curl.stdout.setEncoding('utf8');
    curl.stdout.on('data', (chunk: string) => (out += chunk));
    const admin = await TestClient.connect(
      server.wsUrl,
      await server.token('admin', { roles: ['admin'] }),
    );
    try {
      await seen('"event":"welcome"');
      // Both subscriptions are in place once the instance indexes the session under both channels.
      const index = server.app.get(SubscriptionIndex);
      const subscribed = (c: string): boolean => (index.get(channelTopic(c))?.size ?? 0) > 0;
      while (!subscribed('news.sport') || !subscribed('news.weather')) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await admin.call('channel.publish', { channel: 'news.sport', data: { score: '2-1' } });
      await admin.call('channel.publish', { channel: 'news.weather', data: 'sunny' });
      await seen('"channel":"news.sport"');
      await seen('"data":"sunny"');
      expect(out).toMatch(/^data: \{"event":"welcome"/);
    } finally {
      await admin.close();
      process.kill(-curl.pid!, 'SIGTERM');
    }
  }, 30_000);
});
