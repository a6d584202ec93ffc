import { refusal } from '../../test/support/config-refusal';
import { loadConfig } from './config';

const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'x'.repeat(32),
  ALLOWED_ORIGINS: 'https://app.example',
};

/** Issue 19 (budgets): the new keys and the production rule for API_KEY and METRICS_TOKEN. */
describe('loadConfig: budgets', () => {
  it('reads the budget keys with the contract defaults', () => {
    expect(loadConfig({})).toMatchObject({
      channelHistoryMaxBytes: 67108864,
      historyReplyMaxBytes: 262144,
      overloadHeapRatio: 0.85,
    });
    expect(
      loadConfig({
        CHANNEL_HISTORY_MAX_BYTES: '1000',
        HISTORY_REPLY_MAX_BYTES: '4096',
        OVERLOAD_HEAP_RATIO: '0.5',
      }),
    ).toMatchObject({
      channelHistoryMaxBytes: 1000,
      historyReplyMaxBytes: 4096,
      overloadHeapRatio: 0.5,
    });
  });

  it.each([
    ['CHANNEL_HISTORY_MAX_BYTES', '-1'],
    ['CHANNEL_HISTORY_MAX_BYTES', 'lots'],
    ['HISTORY_REPLY_MAX_BYTES', '10'],
    ['OVERLOAD_HEAP_RATIO', '1.5'],
    ['OVERLOAD_HEAP_RATIO', '0'],
    ['OVERLOAD_HEAP_RATIO', 'high'],
  ])('refuses %s=%s in one line naming the key', (key, value) => {
    expect(refusal({ [key]: value })).toMatch(new RegExp(`\\b${key}\\b`));
  });

  it.each(['API_KEY', 'METRICS_TOKEN'])(
    'refuses a %s under 32 characters in production, and accepts it elsewhere',
    (key) => {
      expect(refusal({ ...PRODUCTION, [key]: 'k'.repeat(31) })).toMatch(
        new RegExp(`\\b${key}\\b.*32`),
      );
      expect(refusal({ ...PRODUCTION, [key]: 'k' })).toMatch(new RegExp(`\\b${key}\\b`));
      expect(() => loadConfig({ ...PRODUCTION, [key]: 'k'.repeat(32) })).not.toThrow();
      expect(() => loadConfig({ [key]: 'k' })).not.toThrow();
    },
  );
});
