/**
 * Self-signed certificates for TLS tests, made with the `openssl` command (Debian's `openssl` package). Where
 * it is missing, the TLS tests print one line and skip, or fail under REQUIRE_SERVICES=1, like the tests that
 * need PostgreSQL or Redis.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let available: boolean | undefined;

export function opensslAvailable(): boolean {
  available ??= spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
  return available;
}

/** describe() when openssl runs here; otherwise skipped with one line, or failing under REQUIRE_SERVICES=1. */
export function describeWithOpenssl(name: string, fn: () => void): void {
  if (opensslAvailable()) return describe(name, fn);
  if (process.env.REQUIRE_SERVICES === '1') {
    return describe(name, () => {
      it('needs the openssl command', () => {
        throw new Error(
          'openssl is not installed (REQUIRE_SERVICES=1): install the openssl package',
        );
      });
    });
  }
  process.stderr.write(`skipping ${name}: the openssl command is not installed\n`);
  // Not `fn`: its body makes certificates as the block is collected, even when skipped.
  describe.skip(name, () => it('needs the openssl command', () => undefined));
}

export interface Certificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
}

/** A P-256 self-signed certificate for 127.0.0.1 and localhost, valid one day, written into `dir`. */
export function makeCertificate(dir: string, name = 'server'): Certificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=hubbub-test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' }); // prettier-ignore
  return { certFile, keyFile, cert: readFileSync(certFile) };
}
