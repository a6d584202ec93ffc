/**
 * Issue 18, point 7: a real nginx in front of Hubbub, configured with the nginx block of docs/deployment.md (only
 * addresses, ports and the certificate replaced: see support/nginx.ts), so the documented config is the tested one.
 * TLS ends at nginx, the WebSocket upgrade passes through it, and 2,000 clients connecting at once through it (a
 * reconnect storm after a restart: every one of them from nginx's single upstream address) are all welcomed.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describeWithOpenssl, makeCertificate } from '../support/certificates';
import { freePort } from '../support/child-server';
import {
  describeWithNginx,
  startNginx,
  testedNginxConfig,
  type RunningNginx,
} from '../support/nginx';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

const STORM = 2000;

describeWithNginx('behind nginx (the config of docs/deployment.md)', () => {
  describeWithOpenssl('nginx terminating TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-nginx-test-'));
    const { certFile, keyFile, cert } = makeCertificate(dir);
    let server: TestServer;
    let nginx: RunningNginx;
    let ports: { http: number; https: number };

    beforeAll(async () => {
      server = await startServer({ TRUSTED_PROXIES: '127.0.0.1' });
      ports = { http: await freePort(), https: await freePort() };
      const config = testedNginxConfig({ upstream: server.port, certFile, keyFile, ...ports });
      nginx = await startNginx(config, ports.https);
    }, 30_000);
    afterAll(async () => {
      await nginx?.stop();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves HTTPS with the certificate nginx holds, while Hubbub itself speaks plain HTTP', async () => {
      const { status, peer } = await new Promise<{ status: number; peer: string }>(
        (resolve, reject) => {
          httpsGet(`https://127.0.0.1:${ports.https}/health`, { ca: cert }, (res) => {
            const peerCert = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, peer: peerCert }));
          }).on('error', reject);
        },
      );
      expect(status).toBe(200);
      expect(peer).toBe(new X509Certificate(cert).fingerprint256);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    });

    it('redirects plain HTTP to https', async () => {
      const { status, location } = await new Promise<{ status: number; location?: string }>(
        (resolve, reject) => {
          httpGet(`http://127.0.0.1:${ports.http}/ws`, (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, location: res.headers.location });
          }).on('error', reject);
        },
      );
      expect(status).toBe(301);
      expect(location).toMatch(/^https:\/\//);
    });

    it('passes the WebSocket upgrade through: welcome, then requests', async () => {
      const client = await TestClient.connect(
        `wss://127.0.0.1:${ports.https}/ws`,
        await server.token('through-nginx'),
        { ca: cert },
      );
      try {
        expect(client.frames[0]).toMatchObject({
          event: 'welcome',
          data: { userId: 'through-nginx' },
        });
        expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
      } finally {
        await client.close();
      }
    });

    it(`welcomes ${STORM} clients connecting at once through it`, async () => {
      const tokens = await Promise.all(
        Array.from({ length: STORM }, (_, i) => server.token(`storm-${i}`)),
      );
      const url = `wss://127.0.0.1:${ports.https}/ws`;
      const results = await Promise.allSettled(
        tokens.map((token) => TestClient.connect(url, token, { ca: cert })),
      );
      const clients = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        const failures = results.flatMap((r) =>
          r.status === 'rejected' ? [String(r.reason)] : [],
        );
        expect(failures.slice(0, 5)).toEqual([]);
        expect(clients).toHaveLength(STORM);
        expect(clients.every((c) => c.frames[0]?.event === 'welcome')).toBe(true);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    }, 180_000);
  });
});
