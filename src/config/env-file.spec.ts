import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { refusal } from '../../test/support/config-refusal';
import { closestKey, envFileWarnings } from './env-file';

describe('.env keys Hubbub does not know', () => {
  it('names each in one line with the closest known key', () => {
    expect(envFileWarnings('PROT=4142\nPORT=1\nJWT_SECRT=x\nREDIS_ULR=redis://x\n')).toEqual([
      '.env: PROT is not a Hubbub key and is ignored; did you mean PORT?',
      '.env: JWT_SECRT is not a Hubbub key and is ignored; did you mean JWT_SECRET?',
      '.env: REDIS_ULR is not a Hubbub key and is ignored; did you mean REDIS_URL?',
    ]);
  });

  it('says nothing about known keys, the test and tool keys, and OTEL_*', () => {
    expect(
      envFileWarnings(
        'DEV_TOKENS=true\nJWT_PUBLIC_KEY=x\nTEST_REDIS_URL=redis://x\nREQUIRE_SERVICES=1\nOTEL_RESOURCE_ATTRIBUTES=a=b\n# PROT=1\n',
      ),
    ).toEqual([]);
  });

  it('knows every key of .env.example, commented out there or not', () => {
    const example = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
    const keys = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(30);
    expect(envFileWarnings(keys.map((k) => `${k}=x`).join('\n'))).toEqual([]);
  });

  it('compares case-insensitively', () => {
    expect(closestKey('log_levl', ['PORT', 'LOG_LEVEL'])).toBe('LOG_LEVEL');
  });
});

describe('URL keys with the wrong scheme', () => {
  it.each([
    ['DATABASE_URL', 'mysql://db/x', 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    ['REDIS_URL', 'http://x', 'REDIS_URL must be a redis:// or rediss:// URL'],
    ['WEBHOOK_URL', 'ftp://x', 'WEBHOOK_URL must be an http:// or https:// URL'],
  ])('%s=%s names the accepted schemes', (key, value, message) => {
    expect(refusal({ [key]: value, DATABASE_URL: 'postgres://db/x', ...{ [key]: value } })).toBe(
      `Invalid configuration: ${message}`,
    );
  });
});
