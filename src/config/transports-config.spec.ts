import { ConfigError, loadConfig } from './config';

describe('TRANSPORTS', () => {
  it('serves all three transports by default', () => {
    expect([...loadConfig({}).transports]).toEqual(['websocket', 'sse', 'stream']);
  });

  it('takes any non-empty comma list of websocket, sse and stream', () => {
    expect([...loadConfig({ TRANSPORTS: ' sse , stream ' }).transports]).toEqual(['sse', 'stream']);
    expect([...loadConfig({ TRANSPORTS: 'websocket' }).transports]).toEqual(['websocket']);
  });

  it.each(['', 'websocket,polling', 'ws', 'sse,,stream'])('refuses %j naming the key', (value) => {
    expect(() => loadConfig({ TRANSPORTS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TRANSPORTS: value })).toThrow(
      /^Invalid configuration: TRANSPORTS must be a comma list of websocket, sse and stream$/,
    );
  });
});
