// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object, which a spy can patch
import crypto = require('node:crypto');
import type { ExecutionContext } from '@nestjs/common';
import { loadConfig } from '../config/config';
import { MetricsTokenGuard } from '../metrics/metrics-token.guard';
import { ApiKeyGuard } from './api-key.guard';

/** The one thing the guards read of a request: its Authorization header. */
const requestWith = (authorization?: string): ExecutionContext =>
  ({
    switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }),
  }) as unknown as ExecutionContext;

// Issue 19, point 6: ApiKeyGuard returned early when the guess's length differed from the key's, so a wrong
// answer came back faster for a wrong length, telling the key's length. Both guards now compare 32-byte digests
// for every guess.
describe.each([
  ['ApiKeyGuard', (key: string) => new ApiKeyGuard(loadConfig({ API_KEY: key }))],
  ['MetricsTokenGuard', (key: string) => new MetricsTokenGuard(loadConfig({ METRICS_TOKEN: key }))],
])('%s', (_name, make) => {
  const KEY = 'k'.repeat(40);

  it('lets the right key through and compares every wrong guess over two 32-byte digests', () => {
    const guard = make(KEY);
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      expect(guard.canActivate(requestWith(`Bearer ${KEY}`))).toBe(true);
      for (const header of ['Bearer x', `Bearer ${KEY}k`, `Bearer ${'y'.repeat(400)}`, undefined]) {
        spy.mockClear();
        expect(() => guard.canActivate(requestWith(header))).toThrow('Invalid');
        expect(spy).toHaveBeenCalledTimes(1);
        const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
        expect([a.length, b.length]).toEqual([32, 32]);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
