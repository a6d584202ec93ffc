import { ConfigError } from './config';
import { configFromOptions } from './options';

describe('HubbubModule options', () => {
  it('maps camelCased options onto the configuration, with the contract defaults', () => {
    const config = configFromOptions({
      jwtSecret: 'x'.repeat(32),
      maxPayloadBytes: 1024,
      allowedOrigins: ['https://a.example', 'https://b.example'],
      devTokens: false,
      nodeId: 'n1',
    });
    expect(config.maxPayloadBytes).toBe(1024);
    expect([...(config.allowedOrigins ?? [])]).toEqual(['https://a.example', 'https://b.example']);
    expect(config.devTokens).toBe(false);
    expect(config.nodeId).toBe('n1');
    expect(config.rateLimitPerSec).toBe(20);
  });

  it('refuses a bad value with the same one line as the environment would', () => {
    expect(() => configFromOptions({ maxPayloadBytes: -1 })).toThrow(ConfigError);
    expect(() => configFromOptions({ maxPayloadBytes: -1 })).toThrow(/MAX_PAYLOAD_BYTES/);
    expect(() => configFromOptions({ redisUrl: 'redis://localhost:6379' })).toThrow(/DATABASE_URL/);
  });

  it('names the options a team writes for the keys the refusal names, after it', () => {
    expect(() => configFromOptions({ maxPayloadBytes: -1 })).toThrow(
      /^Invalid configuration: MAX_PAYLOAD_BYTES must not be less than 64 \(option maxPayloadBytes\)$/,
    );
    expect(() => configFromOptions({ redisUrl: 'redis://localhost:6379' })).toThrow(
      /DATABASE_URL.* \(options [a-zA-Z, ]*databaseUrl[a-zA-Z, ]*\)$/,
    );
  });

  it('refuses unknown options and the standalone-only port and host', () => {
    expect(() => configFromOptions({ nope: 1 } as never)).toThrow('unknown option nope');
    expect(() => configFromOptions({ port: 3000 } as never)).toThrow('unknown option port');
  });

  it('keeps dev tokens off unless asked, and checks the http routes', () => {
    expect(configFromOptions({}).devTokens).toBe(false);
    expect(configFromOptions({ devTokens: true }).devTokens).toBe(true);
    expect(() => configFromOptions({ http: { helth: true } } as never)).toThrow(
      'unknown option http.helth',
    );
    expect(() => configFromOptions({ http: { health: 'yes' } } as never)).toThrow(
      'option http.health must be a boolean',
    );
    expect(() => configFromOptions({ http: { admin: true } })).toThrow(
      /http\.admin needs http\.api/,
    );
    expect(configFromOptions({ http: { api: true, admin: true } }).env).toBe('development');
  });
});
