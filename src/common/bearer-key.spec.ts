// The module object itself (not an import-star copy), so that the spy sees BearerKey's calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object, which a spy can patch
import crypto = require('node:crypto');
import { BearerKey } from './bearer-key';

describe('BearerKey', () => {
  const KEY = 'k'.repeat(40);

  it('matches the bearer key only', () => {
    const key = new BearerKey(KEY);
    expect(key.matches(`Bearer ${KEY}`)).toBe(true);
    expect(key.matches(`bearer   ${KEY} `)).toBe(true);
    expect(key.matches(`Bearer ${KEY}x`)).toBe(false);
    expect(key.matches(`Bearer ${KEY.slice(1)}`)).toBe(false);
    expect(key.matches(KEY)).toBe(false);
    expect(key.matches('Bearer ')).toBe(false);
    expect(key.matches(undefined)).toBe(false);
  });

  // Issue 19, point 6: the API key guard used to return early when the lengths differed, so the time of a wrong
  // answer told the key's length. Every guess, whatever its length (none at all included), is now compared in
  // constant time over two 32-byte digests.
  it('compares every guess in constant time over two digests of one length, whatever its length', () => {
    const key = new BearerKey(KEY);
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      for (const header of [`Bearer ${KEY}`, 'Bearer x', `Bearer ${'y'.repeat(400)}`, undefined]) {
        spy.mockClear();
        key.matches(header);
        expect(spy).toHaveBeenCalledTimes(1);
        const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
        expect([a.length, b.length]).toEqual([32, 32]);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
