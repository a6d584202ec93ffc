import { isLoopback, loadConfig } from './config';

describe('DEV_TOKENS and HOST defaults', () => {
  it('turns dev tokens on by default only in development on a loopback HOST', () => {
    expect(loadConfig({}).devTokens).toBe(true);
    expect(loadConfig({ HOST: 'localhost' }).devTokens).toBe(true);
    expect(loadConfig({ HOST: '::1' }).devTokens).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0' }).devTokens).toBe(false);
    expect(loadConfig({ HOST: '192.168.1.20' }).devTokens).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).devTokens).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0', DEV_TOKENS: 'true' }).devTokens).toBe(true);
  });

  it('binds 127.0.0.1 in development and test, every interface in production', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(
      loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET: 'x'.repeat(32),
        ALLOWED_ORIGINS: 'https://app.example',
      }).host,
    ).toBe('0.0.0.0');
  });

  it('knows the loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopback(host)).toBe(false);
  });
});
