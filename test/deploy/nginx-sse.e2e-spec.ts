/**
 * The HTTP transports through a real nginx configured with the nginx block of docs/deployment.md (see
 * support/nginx.ts): the stream is not buffered (the welcome arrives at once, long before any buffer would fill),
 * heartbeats pass, and frames posted to `/stream/send` through nginx are answered on the stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithOpenssl, makeCertificate } from '../support/certificates';
import { freePort } from '../support/child-server';
import {
  describeWithNginx,
  startNginx,
  testedNginxConfig,
  type RunningNginx,
} from '../support/nginx';
import { startServer, type TestServer } from '../support/server';
import { StreamTestClient } from '../support/stream-client';

const HEARTBEAT_MS = 400;

describeWithNginx('HTTP transports behind nginx (the config of docs/deployment.md)', () => {
  describeWithOpenssl('nginx terminating TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-nginx-sse-'));
    const { certFile, keyFile } = makeCertificate(dir);
    let server: TestServer;
    let nginx: RunningNginx;
    let base: string;

    beforeAll(async () => {
      server = await startServer({
        TRUSTED_PROXIES: '127.0.0.1',
        HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      });
      const ports = { http: await freePort(), https: await freePort() };
      nginx = await startNginx(
        testedNginxConfig({ upstream: server.port, certFile, keyFile, ...ports }),
        ports.https,
      );
      base = `https://127.0.0.1:${ports.https}`;
    }, 30_000);
    afterAll(async () => {
      await nginx?.stop();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it.each(['sse', 'stream'] as const)(
      '%s: the welcome arrives promptly, heartbeats pass, sends are answered on the stream',
      async (transport) => {
        const client = await StreamTestClient.connect(
          transport,
          base,
          await server.token(`nginx-${transport}`),
        );
        try {
          // A buffering proxy would hold the few hundred bytes of welcome (and every 3-byte heartbeat) back until
          // a buffer of kilobytes fills: here it comes right after the headers.
          expect(client.welcomeDelayMs).toBeLessThan(HEARTBEAT_MS);
          expect(client.response.headers['content-encoding']).toBeUndefined();
          const beats = client.heartbeats;
          await client.nextHeartbeat(HEARTBEAT_MS * 5);
          await client.nextHeartbeat(HEARTBEAT_MS * 5);
          expect(client.heartbeats).toBeGreaterThanOrEqual(beats + 2);
          expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
          const big = { event: 'ping', id: 'big', data: { pad: 'x'.repeat(60_000) } };
          expect(await client.post(Array(20).fill(big))).toBe(202); // 1.2 MB: above nginx's default 1 MB
        } finally {
          await client.close();
        }
      },
    );
  });
});
