import { generateKeyPairSync } from 'node:crypto';
import { refusal } from '../../test/support/config-refusal';
import { loadConfig } from './config';

const pemOf = (type: 'rsa' | 'ec', namedCurve?: string): string =>
  (type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: namedCurve ?? 'prime256v1' })
  ).publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();
const RSA_PEM = pemOf('rsa');

const SECRET = 'x'.repeat(32);
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: SECRET,
  ALLOWED_ORIGINS: 'https://app.example',
};

describe('loadConfig', () => {
  it('reads the access proxy keys: unset / 2000 ms by default', () => {
    expect(loadConfig({})).toMatchObject({ accessProxyTimeoutMs: 2000 });
    expect(loadConfig({}).accessProxyUrl).toBeUndefined();
    expect(
      loadConfig({
        ACCESS_PROXY_URL: 'http://backend:8080/access',
        ACCESS_PROXY_TIMEOUT_MS: '500',
      }),
    ).toMatchObject({ accessProxyUrl: 'http://backend:8080/access', accessProxyTimeoutMs: 500 });
  });

  describe('defaults', () => {
    it('binds 127.0.0.1 in development and test, 0.0.0.0 in production, unless HOST says', () => {
      expect(loadConfig({}).host).toBe('127.0.0.1');
      expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
      expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
      expect(loadConfig({ HOST: '' }).host).toBe('127.0.0.1');
      expect(loadConfig({ NODE_ENV: 'test', HOST: '::1' }).host).toBe('::1');
    });

    it('starts with an empty environment using the documented defaults', () => {
      const config = loadConfig({});
      expect(config).toMatchObject({
        port: 3000,
        host: '127.0.0.1',
        env: 'development',
        sqlitePath: './data/hubbub.db',
        heartbeatIntervalMs: 25000,
        maxPayloadBytes: 65536,
        rateLimitPerSec: 20,
        rateLimitBurst: 40,
        maxSubscriptions: 100,
        maxConnectionsPerUser: 50,
        maxBufferedBytes: 4194304,
        channelHistorySize: 100,
        channelHistoryTtlMs: 300000,
        shutdownTimeoutMs: 10000,
        logLevel: 'info',
        devTokens: true,
      });
      expect(config.allowedOrigins).toBeUndefined();
      expect(config.databaseUrl).toBeUndefined();
      expect(config.redisUrl).toBeUndefined();
      expect(config.apiKey).toBeUndefined();
      expect(config.nodeId).toEqual(expect.any(String));
    });

    it('makes a random ephemeral secret in development when JWT_SECRET is unset', () => {
      const a = loadConfig({});
      const b = loadConfig({});
      expect(a.jwt.ephemeral).toBe(true);
      expect(a.jwt.secret?.byteLength).toBeGreaterThanOrEqual(32);
      expect(Buffer.from(a.jwt.secret!).equals(Buffer.from(b.jwt.secret!))).toBe(false);
    });

    it('reads numbers, lists and flags from strings', () => {
      const config = loadConfig({
        PORT: '8080',
        HEARTBEAT_INTERVAL_MS: '200',
        ALLOWED_ORIGINS: 'https://a.example, https://b.example,,',
        DEV_TOKENS: 'false',
        JWT_SECRET: 'short-is-fine-outside-production',
        NODE_ID: 'node-a',
      });
      expect(config.port).toBe(8080);
      expect(config.heartbeatIntervalMs).toBe(200);
      expect([...config.allowedOrigins!]).toEqual(['https://a.example', 'https://b.example']);
      expect(config.devTokens).toBe(false);
      expect(config.jwt.ephemeral).toBe(false);
      expect(config.nodeId).toBe('node-a');
    });

    it('accepts a complete production configuration and turns dev tokens off there', () => {
      const config = loadConfig(PRODUCTION);
      expect(config.env).toBe('production');
      expect(config.devTokens).toBe(false);
      expect(config.jwt.ephemeral).toBe(false);
    });

    it('accepts a 32-byte JWT_SECRET in production', () => {
      expect(() => loadConfig({ ...PRODUCTION, JWT_SECRET: 'a'.repeat(32) })).not.toThrow();
    });

    it('accepts JWT_PUBLIC_KEY instead of JWT_SECRET in production, written on one line with \\n', () => {
      const oneLine = RSA_PEM.trim().replace(/\n/g, '\\n');
      const config = loadConfig({ ...PRODUCTION, JWT_SECRET: undefined, JWT_PUBLIC_KEY: oneLine });
      expect(config.jwt.secret).toBeUndefined();
      expect(config.jwt.publicKey).toBe(RSA_PEM.trim());
    });

    it('accepts REDIS_URL together with DATABASE_URL', () => {
      const config = loadConfig({
        REDIS_URL: 'redis://127.0.0.1:6379',
        DATABASE_URL: 'postgres://u@db:5432/hubbub',
      });
      expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(config.databaseUrl).toBe('postgres://u@db:5432/hubbub');
    });

    it('ignores keys it does not know', () => {
      expect(() => loadConfig({ SOMETHING_ELSE: 'whatever', PATH: '/usr/bin' })).not.toThrow();
    });
  });

  describe('refusals, each one line naming the key', () => {
    it.each([
      ['PORT=abc', { PORT: 'abc' }, 'PORT'],
      ['PORT=70000', { PORT: '70000' }, 'PORT'],
      ['PORT=-1', { PORT: '-1' }, 'PORT'],
      ['PORT=3000.5', { PORT: '3000.5' }, 'PORT'],
      ['MAX_SUBSCRIPTIONS=-1', { MAX_SUBSCRIPTIONS: '-1' }, 'MAX_SUBSCRIPTIONS'],
      ['MAX_SUBSCRIPTIONS=0', { MAX_SUBSCRIPTIONS: '0' }, 'MAX_SUBSCRIPTIONS'],
      [
        'MAX_CONNECTIONS_PER_USER=many',
        { MAX_CONNECTIONS_PER_USER: 'many' },
        'MAX_CONNECTIONS_PER_USER',
      ],
      ['RATE_LIMIT_BURST=-5', { RATE_LIMIT_BURST: '-5' }, 'RATE_LIMIT_BURST'],
      ['SHUTDOWN_TIMEOUT_MS=-1', { SHUTDOWN_TIMEOUT_MS: '-1' }, 'SHUTDOWN_TIMEOUT_MS'],
      ['HEARTBEAT_INTERVAL_MS=soon', { HEARTBEAT_INTERVAL_MS: 'soon' }, 'HEARTBEAT_INTERVAL_MS'],
      ['a malformed DATABASE_URL', { DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
      ['a DATABASE_URL that is not postgres', { DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL'],
      [
        'a malformed REDIS_URL',
        { REDIS_URL: 'localhost:6379', DATABASE_URL: 'postgres://db/x' },
        'REDIS_URL',
      ],
      ['a malformed WEBHOOK_URL', { WEBHOOK_URL: 'nope', WEBHOOK_SECRET: 's' }, 'WEBHOOK_URL'],
      ['a malformed ACCESS_PROXY_URL', { ACCESS_PROXY_URL: 'ftp://x/y' }, 'ACCESS_PROXY_URL'],
      ['ACCESS_PROXY_TIMEOUT_MS=0', { ACCESS_PROXY_TIMEOUT_MS: '0' }, 'ACCESS_PROXY_TIMEOUT_MS'],
      ['an unknown NODE_ENV', { NODE_ENV: 'staging' }, 'NODE_ENV'],
      ['an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      ['DEV_TOKENS=maybe', { DEV_TOKENS: 'maybe' }, 'DEV_TOKENS'],
    ])('refuses %s', (_what, env, key) => {
      expect(refusal(env)).toMatch(new RegExp(`\\b${key}\\b`));
    });

    it('refuses NODE_ENV=production without JWT_SECRET', () => {
      expect(refusal({ ...PRODUCTION, JWT_SECRET: undefined })).toMatch(/\bJWT_SECRET\b/);
      expect(refusal({ ...PRODUCTION, JWT_SECRET: '' })).toMatch(/\bJWT_SECRET\b/);
    });

    it('refuses NODE_ENV=production with a JWT_SECRET under 32 bytes', () => {
      expect(refusal({ ...PRODUCTION, JWT_SECRET: 'a'.repeat(31) })).toMatch(/\bJWT_SECRET\b.*32/);
    });

    it('measures the production JWT_SECRET in bytes, not characters', () => {
      // 16 characters, 32 bytes in UTF-8
      expect(() => loadConfig({ ...PRODUCTION, JWT_SECRET: 'é'.repeat(16) })).not.toThrow();
    });

    it('refuses NODE_ENV=production without ALLOWED_ORIGINS', () => {
      expect(refusal({ ...PRODUCTION, ALLOWED_ORIGINS: undefined })).toMatch(/\bALLOWED_ORIGINS\b/);
    });

    // Regression (fixed in 744f577): an empty list used to pass the check and then allow every origin.
    it('refuses NODE_ENV=production with an ALLOWED_ORIGINS that lists no origin', () => {
      expect(refusal({ ...PRODUCTION, ALLOWED_ORIGINS: ' , ' })).toMatch(/\bALLOWED_ORIGINS\b/);
    });

    it('refuses NODE_ENV=production with DEV_TOKENS=true', () => {
      expect(refusal({ ...PRODUCTION, DEV_TOKENS: 'true' })).toMatch(/\bDEV_TOKENS\b/);
    });

    it('refuses REDIS_URL without DATABASE_URL', () => {
      const message = refusal({ REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(message).toMatch(/\bREDIS_URL\b/);
      expect(message).toMatch(/\bDATABASE_URL\b/);
    });

    it('verifies with JWT_PUBLIC_KEY when JWT_SECRET is set too, and says the secret is ignored', () => {
      const config = loadConfig({ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: RSA_PEM });
      expect(config.jwt.secret).toBeUndefined();
      expect(config.jwt.secretIgnored).toBe(true);
    });

    it('refuses a JWT_PUBLIC_KEY that is not a PEM public key', () => {
      expect(refusal({ JWT_PUBLIC_KEY: 'abc' })).toMatch(/\bJWT_PUBLIC_KEY\b/);
      const broken = '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----';
      expect(refusal({ JWT_PUBLIC_KEY: broken })).toMatch(/\bJWT_PUBLIC_KEY\b/);
    });

    it('refuses a JWT_PUBLIC_KEY on a curve ES256 does not use', () => {
      expect(refusal({ JWT_PUBLIC_KEY: pemOf('ec', 'secp384r1') })).toMatch(/\bJWT_PUBLIC_KEY\b/);
    });

    it('accepts a P-256 JWT_PUBLIC_KEY for ES256', () => {
      expect(loadConfig({ JWT_PUBLIC_KEY: pemOf('ec') }).jwt.publicKey).toContain(
        'BEGIN PUBLIC KEY',
      );
    });

    it('refuses WEBHOOK_URL without WEBHOOK_SECRET', () => {
      expect(refusal({ WEBHOOK_URL: 'https://hooks.example/in' })).toMatch(/\bWEBHOOK_SECRET\b/);
    });

    it('names only the first bad key when several are bad', () => {
      const message = refusal({ PORT: 'abc', MAX_SUBSCRIPTIONS: '-1' });
      expect(message.match(/\b(PORT|MAX_SUBSCRIPTIONS)\b/g)).toHaveLength(1);
    });
  });
});
