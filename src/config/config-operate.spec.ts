import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithOpenssl, makeCertificate } from '../../test/support/certificates';
import { refusal } from '../../test/support/config-refusal';
import { loadConfig } from './config';

describeWithOpenssl('loadConfig: TLS_CERT_FILE / TLS_KEY_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-tls-config-'));
  const pair = makeCertificate(dir);
  const { certFile: cert, keyFile: key } = pair;

  it('leaves TLS off when neither is set', () => {
    expect(loadConfig({}).tls).toBeUndefined();
    expect(loadConfig({ TLS_CERT_FILE: '', TLS_KEY_FILE: ' ' }).tls).toBeUndefined();
  });

  it('reads both PEM files when both are set', () => {
    const tls = loadConfig({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key }).tls;
    expect(tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls?.key.toString()).toContain('PRIVATE KEY');
  });

  it('refuses one without the other, naming the missing key', () => {
    expect(refusal({ TLS_CERT_FILE: cert })).toMatch(/^Invalid configuration: TLS_KEY_FILE\b/);
    expect(refusal({ TLS_KEY_FILE: key })).toMatch(/^Invalid configuration: TLS_CERT_FILE\b/);
  });

  it('refuses a file that cannot be read, naming its key', () => {
    const missing = join(dir, 'nope.pem');
    expect(refusal({ TLS_CERT_FILE: missing, TLS_KEY_FILE: key })).toMatch(
      /\bTLS_CERT_FILE\b.*cannot be read \(ENOENT\)/,
    );
    expect(refusal({ TLS_CERT_FILE: cert, TLS_KEY_FILE: dir })).toMatch(
      /\bTLS_KEY_FILE\b.*cannot be read \(EISDIR\)/,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.key');
      writeFileSync(locked, 'x');
      chmodSync(locked, 0o000);
      expect(refusal({ TLS_CERT_FILE: cert, TLS_KEY_FILE: locked })).toMatch(
        /\bTLS_KEY_FILE\b.*cannot be read \(EACCES\)/,
      );
    }
  });

  it('refuses files that hold no PEM certificate or key, and a key of another certificate', () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a pem\n');
    expect(refusal({ TLS_CERT_FILE: junk, TLS_KEY_FILE: key })).toMatch(/\bTLS_CERT_FILE\b/);
    expect(refusal({ TLS_CERT_FILE: cert, TLS_KEY_FILE: junk })).toMatch(/\bTLS_KEY_FILE\b/);
    // Swapped: the certificate is no private key.
    expect(refusal({ TLS_CERT_FILE: key, TLS_KEY_FILE: cert })).toMatch(/\bTLS_/);
    const other = makeCertificate(dir, 'other');
    expect(refusal({ TLS_CERT_FILE: cert, TLS_KEY_FILE: other.keyFile })).toMatch(
      /\bTLS_KEY_FILE\b.*not the key of the certificate/,
    );
  });
});

describe('loadConfig: WEBHOOK_SECRET (Standard Webhooks)', () => {
  const URL = 'https://hooks.example/in';
  const whsec = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;

  it('accepts whsec_ + base64 of 24 bytes or more', () => {
    for (const secret of [whsec(24), whsec(32), whsec(64)])
      expect(loadConfig({ WEBHOOK_URL: URL, WEBHOOK_SECRET: secret }).webhookSecret).toBe(secret);
  });

  it.each([
    ['a plain string', 'a-long-enough-but-plain-shared-secret-string'],
    ['base64 without the whsec_ prefix', randomBytes(32).toString('base64')],
    ['whsec_ with fewer than 24 bytes', `whsec_${randomBytes(23).toString('base64')}`],
    ['whsec_ with characters outside base64', `whsec_${'A'.repeat(31)}!`],
    ['whsec_ with base64url characters', `whsec_${'-_'.repeat(16)}`],
    ['whsec_ with broken padding', `whsec_${randomBytes(32).toString('base64')}==`],
    ['whsec_ and nothing', 'whsec_'],
  ])('refuses %s, naming WEBHOOK_SECRET without echoing it', (_what, secret) => {
    const message = refusal({ WEBHOOK_URL: URL, WEBHOOK_SECRET: secret });
    expect(message).toMatch(/^Invalid configuration: WEBHOOK_SECRET\b/);
    expect(message).not.toContain(secret.slice(6) || 'whsec_x');
  });

  it('checks the secret even without WEBHOOK_URL', () => {
    expect(refusal({ WEBHOOK_SECRET: 'short' })).toMatch(/\bWEBHOOK_SECRET\b/);
  });
});
