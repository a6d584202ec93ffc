/**
 * Issue 18, points 1 and 6: built-in TLS keeps its connections (the pending-connection tracker follows the TLS socket
 * the requests are served on), and SIGHUP never ends the process (TLS on: the files are read again; off: one line).
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describeWithOpenssl, makeCertificate } from '../support/certificates';
import { launch, removeBuild, spawnServer, type ChildServer } from '../support/child-server';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

const TIMEOUT_MS = 400;

/** Resolves once the server closes a TCP connection that never sends a byte (cut after HANDSHAKE_TIMEOUT_MS). */
function silentConnectionCut(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('close', () => resolve());
  });
}

/** Resolves when `lines` has a line matching `pattern` (polled on the child's own output, no fixed wait). */
async function lineMatching(lines: string[], pattern: RegExp): Promise<string> {
  for (;;) {
    const line = lines.find((l) => pattern.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function peerFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describeWithOpenssl('built-in TLS keeps its connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-deploy-tls-'));
  const { certFile, keyFile, cert } = makeCertificate(dir);
  let server: TestServer;
  let wss: string;

  beforeAll(async () => {
    server = await startServer({
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      HANDSHAKE_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    wss = `wss://127.0.0.1:${server.port}/ws`;
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a wss connection outlives 3 × HANDSHAKE_TIMEOUT_MS', async () => {
    const client = await TestClient.connect(wss, await server.token('alice'), { ca: cert });
    try {
      // Three timeouts later, awaited through the server's own cut of silent connections, it still answers.
      for (let i = 0; i < 3; i++) await silentConnectionCut(server.port);
      expect(await client.call('ping')).toEqual({ ts: expect.any(Number) });
      expect(client.closeCode).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});

describeWithOpenssl('built-in TLS: a burst from one address', () => {
  // The default HANDSHAKE_TIMEOUT_MS: 500 TLS handshakes on both ends of one process take longer than 400 ms.
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-deploy-tls-'));
  const { certFile, keyFile, cert } = makeCertificate(dir);
  let server: TestServer;
  let wss: string;

  beforeAll(async () => {
    server = await startServer({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
    wss = `wss://127.0.0.1:${server.port}/ws`;
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('welcomes 500 wss connections from one address', async () => {
    const tokens = await Promise.all(Array.from({ length: 500 }, (_, i) => server.token(`u${i}`)));
    const results = await Promise.allSettled(
      tokens.map((token) => TestClient.connect(wss, token, { ca: cert })),
    );
    const clients = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const pongs = await Promise.all(clients.map((c) => c.call('ping')));
      expect(pongs).toHaveLength(500);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 60_000);
});

describe('SIGHUP never ends the process', () => {
  afterAll(() => removeBuild());

  it('without TLS: logs one line naming SIGHUP and keeps serving', async () => {
    const child: ChildServer = await spawnServer({});
    try {
      child.proc.kill('SIGHUP');
      const line = await lineMatching(child.stdout, /SIGHUP/);
      expect(line).toMatch(/SIGHUP/);
      expect(child.stdout.filter((l) => /SIGHUP/.test(l))).toHaveLength(1);
      expect((await fetch(`${child.url}/health`)).status).toBe(200);
      expect(child.proc.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
      await child.waitForExit();
    }
  });

  describeWithOpenssl('with TLS', () => {
    it('reads the TLS files again: new connections get the renewed certificate, the process stays', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hubbub-sighup-'));
      const first = makeCertificate(dir, 'first');
      const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
      copyFileSync(first.certFile, files.cert);
      copyFileSync(first.keyFile, files.key);
      const child = await launch({ TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.key });
      try {
        await lineMatching(child.stdout, /listening on https/);
        expect(await peerFingerprint(child.port, first.cert)).toBe(
          new X509Certificate(first.cert).fingerprint256,
        );
        const renewed = makeCertificate(dir, 'renewed');
        copyFileSync(renewed.certFile, files.cert);
        copyFileSync(renewed.keyFile, files.key);
        child.proc.kill('SIGHUP');
        await lineMatching(child.stdout, /TLS certificate reloaded/);
        expect(await peerFingerprint(child.port, renewed.cert)).toBe(
          new X509Certificate(renewed.cert).fingerprint256,
        );
        expect(child.proc.exitCode).toBeNull();
      } finally {
        child.kill('SIGKILL');
        await child.waitForExit();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
