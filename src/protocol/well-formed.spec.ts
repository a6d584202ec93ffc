import { illFormedString, isValidUserId } from './validators';

describe('illFormedString', () => {
  it('finds the first string that is not well-formed, by its path, nested or not', () => {
    expect(illFormedString({ text: 'a\ud800' }, '')).toBe('text');
    expect(illFormedString({ data: { list: [1, 'ok', { s: '\udc00x' }] } }, '')).toBe(
      'data.list.2.s',
    );
    expect(illFormedString(['x', 'y\udbff'], 'ids')).toBe('ids.1');
  });

  it('judges keys too, and passes surrogate pairs, other strings and other values', () => {
    expect(illFormedString({ data: { ['k\ud800']: 1 } }, '')).toBe('data');
    expect(illFormedString({ text: 'x\ud83d\ude00y', n: 1, b: true, z: null }, '')).toBeUndefined();
    expect(illFormedString('\ud800\udc00', 'text')).toBeUndefined();
    expect(illFormedString('\udc00\ud800', 'text')).toBe('text');
  });

  it('refuses user ids with a lone surrogate', () => {
    expect(isValidUserId('alice\ud800')).toBe(false);
    expect(isValidUserId('alice\ud83d\ude00')).toBe(true);
  });
});
