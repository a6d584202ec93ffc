import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { get } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { reloadTls } from '../../src/bootstrap';
import { describeWithOpenssl, makeCertificate } from '../support/certificates';
import { removeBuild, runUntilExit } from '../support/child-server';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/** GET over HTTPS trusting only `ca`; resolves with the response, its body and the certificate served. */
function httpsGet(
  url: string,
  ca: Buffer,
): Promise<{ res: IncomingMessage; body: string; peer: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ res, body, peer }));
    }).on('error', reject);
  });
}

describeWithOpenssl('TLS: TLS_CERT_FILE and TLS_KEY_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-tls-'));
  const { certFile, keyFile, cert } = makeCertificate(dir);
  const fingerprint = new X509Certificate(cert).fingerprint256;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('with both set', () => {
    let server: TestServer;
    let https: string;
    let wss: string;

    beforeAll(async () => {
      server = await startServer({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
      https = `https://127.0.0.1:${server.port}`;
      wss = `wss://127.0.0.1:${server.port}/ws`;
    });
    afterAll(async () => {
      await server.close();
    });

    it('serves HTTPS with the configured certificate on the port', async () => {
      const { res, peer } = await httpsGet(`${https}/health`, cert);
      expect(res.statusCode).toBe(200);
      expect(peer).toBe(fingerprint);
    });

    it('no longer answers plain HTTP on that port', async () => {
      await expect(fetch(`http://127.0.0.1:${server.port}/health`)).rejects.toThrow();
    });

    it('accepts a WSS connection with a token on the same port: welcome, then requests', async () => {
      const client = await TestClient.connect(wss, await server.token('alice'), { ca: cert });
      try {
        expect(client.frames[0]).toMatchObject({ event: 'welcome', data: { userId: 'alice' } });
        expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
        const socket = (client.ws as unknown as { _socket: TLSSocket })._socket;
        expect(socket.encrypted).toBe(true);
        expect(socket.getPeerCertificate().fingerprint256).toBe(fingerprint);
      } finally {
        await client.close();
      }
    });

    it('still refuses a WSS handshake without a token with 401', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(wss, { ca: cert });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('opened without a token')));
        ws.once('error', reject);
      });
      expect(status).toBe(401);
    });
  });

  describe('reloading the certificate (SIGHUP)', () => {
    it('serves the renewed certificate to new connections, keeps open ones, and keeps the old one when the new files are bad', async () => {
      // Files of its own: the renewal overwrites them in place, as certbot does with its live/ links.
      const live = mkdtempSync(join(dir, 'live-'));
      const files = { cert: join(live, 'cert.pem'), key: join(live, 'key.pem') };
      copyFileSync(certFile, files.cert);
      copyFileSync(keyFile, files.key);
      const server = await startServer({ TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.key });
      const https = `https://127.0.0.1:${server.port}`;
      const open = await TestClient.connect(
        `wss://127.0.0.1:${server.port}/ws`,
        await server.token('kept'),
        { ca: cert },
      );
      try {
        const renewed = makeCertificate(live, 'renewed');
        copyFileSync(renewed.certFile, files.cert);
        copyFileSync(renewed.keyFile, files.key);
        expect(reloadTls(server.app, server.config)).toBe(true);
        const { peer } = await httpsGet(`${https}/health`, renewed.cert);
        expect(peer).toBe(new X509Certificate(renewed.cert).fingerprint256);
        expect(await open.call('ping')).toEqual({ ts: expect.any(Number) }); // still on the old certificate

        writeFileSync(files.key, 'half-written\n');
        expect(reloadTls(server.app, server.config)).toBe(false);
        expect((await httpsGet(`${https}/health`, renewed.cert)).res.statusCode).toBe(200);
      } finally {
        await open.close();
        await server.close();
      }
    });
  });

  describe('a refused configuration stops the process with one line naming the key', () => {
    afterAll(() => removeBuild());

    it.each([
      ['TLS_CERT_FILE without TLS_KEY_FILE', { TLS_CERT_FILE: certFile }, 'TLS_KEY_FILE'],
      ['TLS_KEY_FILE without TLS_CERT_FILE', { TLS_KEY_FILE: keyFile }, 'TLS_CERT_FILE'],
      [
        'an unreadable TLS_KEY_FILE',
        { TLS_CERT_FILE: certFile, TLS_KEY_FILE: join(dir, 'missing.pem') },
        'TLS_KEY_FILE',
      ],
    ])(
      '%s',
      async (_what, env, key) => {
        const run = await runUntilExit(env);
        expect(run.code).toBe(1);
        expect(run.stderr).toHaveLength(1);
        expect(run.stderr[0]).toMatch(new RegExp(`^Invalid configuration: ${key}\\b`));
      },
      120_000,
    );
  });
});
