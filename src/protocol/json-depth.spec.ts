import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('exceedsJsonDepth', () => {
  it('accepts nesting up to the bound and refuses one level more', () => {
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(exceedsJsonDepth(`{"a":${nested(MAX_JSON_DEPTH - 1)}}`)).toBe(false);
    expect(exceedsJsonDepth(`{"a":${nested(MAX_JSON_DEPTH)}}`)).toBe(true);
  });

  it('counts siblings at their own level, not their sum', () => {
    const wide = `[${Array.from({ length: 1000 }, () => nested(10)).join(',')}]`;
    expect(exceedsJsonDepth(wide)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const s = JSON.stringify({ text: '['.repeat(100) + '\\"[[[' + '{'.repeat(100) });
    expect(exceedsJsonDepth(s)).toBe(false);
    expect(exceedsJsonDepth(`["\\\\", ${nested(MAX_JSON_DEPTH)}]`)).toBe(true);
    expect(exceedsJsonDepth(`["\\"${nested(MAX_JSON_DEPTH)}"]`)).toBe(false);
  });

  it('reads UTF-8 bytes as well as strings', () => {
    expect(exceedsJsonDepth(Buffer.from(`{"é€😀":${nested(40)}}`))).toBe(true);
    expect(exceedsJsonDepth(Buffer.from(`{"é€😀":"${'['.repeat(40)}"}`))).toBe(false);
  });

  it('scans a 16,000-level frame in linear time without recursion', () => {
    const frame = Buffer.from(`{"event":"x","data":{"x":${nested(16_000)}}}`);
    const start = performance.now();
    for (let i = 0; i < 100; i++) exceedsJsonDepth(frame, 1_000_000);
    expect(performance.now() - start).toBeLessThan(500);
  });
});
