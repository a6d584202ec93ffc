import { pageOfNames } from './room-page';

describe('pageOfNames', () => {
  const names = ['b', 'a:1', 'a:3', 'A', 'a:2', 'c'];

  it('sorts by code unit and pages after the cursor', () => {
    expect(pageOfNames(names, { limit: 2 })).toEqual({ page: ['A', 'a:1'], more: true });
    expect(pageOfNames(names, { limit: 2, cursor: 'a:1' })).toEqual({
      page: ['a:2', 'a:3'],
      more: true,
    });
    expect(pageOfNames(names, { limit: 2, cursor: 'b' })).toEqual({ page: ['c'], more: false });
  });

  it('keeps the names that start with the prefix', () => {
    expect(pageOfNames(names, { prefix: 'a:', limit: 3 })).toEqual({
      page: ['a:1', 'a:2', 'a:3'],
      more: false,
    });
  });

  it('continues after a cursor that names a room gone since', () => {
    expect(pageOfNames(names, { limit: 10, cursor: 'a:15' })).toEqual({
      page: ['a:2', 'a:3', 'b', 'c'],
      more: false,
    });
  });
});
