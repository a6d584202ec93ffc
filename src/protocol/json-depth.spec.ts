import { cpuMsOf } from '../../test/support/cpu';
import {
  exceedsJsonDepth,
  MAX_JSON_DEPTH,
  parseFrame,
  topLevelId,
  TooDeepFrame,
} from './json-depth';

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

  it('scans a 16,000-level frame in linear time without recursion', async () => {
    const frame = Buffer.from(`{"event":"x","data":{"x":${nested(16_000)}}}`);
    const { cpuMs } = await cpuMsOf(() => {
      for (let i = 0; i < 100; i++) exceedsJsonDepth(frame, 1_000_000);
    });
    expect(cpuMs).toBeLessThan(500);
  });
});

describe('parseFrame', () => {
  it('parses frames within the bound like JSON.parse', () => {
    expect(parseFrame(Buffer.from('{"event":"ping","id":1,"data":{"a":[[1]]}}'))).toEqual({
      event: 'ping',
      id: 1,
      data: { a: [[1]] },
    });
    expect(() => parseFrame(Buffer.from('{"event":'))).toThrow(SyntaxError);
  });

  it('does not parse a too deep frame, and keeps its top-level id', () => {
    const deep = nested(16_000);
    expect(parseFrame(Buffer.from(`{"event":"x","id":42,"data":${deep}}`))).toEqual(
      new TooDeepFrame(42),
    );
    expect(parseFrame(Buffer.from(`{"data":${deep},"id":"abc"}`))).toEqual(new TooDeepFrame('abc'));
    expect(parseFrame(Buffer.from(`{"event":"x","data":${deep}}`))).toEqual(
      new TooDeepFrame(undefined),
    );
  });
});

describe('topLevelId', () => {
  const id = (text: string): unknown => topLevelId(Buffer.from(text));

  it('reads string and number ids of the top-level object only', () => {
    expect(id('{"id":1}')).toBe(1);
    expect(id('{ "id" : -2.5e3 , "x":1}')).toBe(-2500);
    expect(id(JSON.stringify({ id: 'a\\"b"c' }))).toBe('a\\"b"c');
    expect(id('{"\u0069d":7}')).toBe(7);
    expect(id('{"data":{"id":1}}')).toBeUndefined();
    expect(id('{"data":["id",1],"x":"id"}')).toBeUndefined();
    expect(id('[{"id":1}]')).toBeUndefined();
  });

  it('ignores ids of other types and lets the last one win, like JSON.parse', () => {
    expect(id('{"id":null}')).toBeUndefined();
    expect(id('{"id":{"a":1}}')).toBeUndefined();
    expect(id('{"id":[1]}')).toBeUndefined();
    expect(id('{"id":true}')).toBeUndefined();
    expect(id('{"id":1,"id":"two"}')).toBe('two');
  });

  it('agrees with JSON.parse on ordinary frames', () => {
    for (const frame of [
      { event: 'a', id: 3, data: { id: 9, list: [{ id: 1 }] } },
      { id: 'x', event: 'b' },
      { event: 'c', data: 'id' },
      { event: 'd', id: 0.5 },
    ]) {
      expect(id(JSON.stringify(frame))).toBe((frame as { id?: unknown }).id);
    }
  });
});
