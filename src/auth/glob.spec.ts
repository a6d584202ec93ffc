import { anyGlobMatches, globMatch } from './glob';

describe('claim globs', () => {
  it('matches * across any run of characters and ? a single one', () => {
    expect(globMatch('private:team-*', 'private:team-red')).toBe(true);
    expect(globMatch('private:team-*', 'private:other')).toBe(false);
    expect(globMatch('news.?', 'news.1')).toBe(true);
    expect(globMatch('news.?', 'news.12')).toBe(false);
  });

  it('treats every other character literally, regex metacharacters included', () => {
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('a.b', 'a.b')).toBe(true);
    expect(globMatch('x+', 'xx')).toBe(false);
  });

  it('anchors the whole name', () => {
    expect(globMatch('team', 'private:team')).toBe(false);
  });

  it('grants when any glob of the claim matches', () => {
    expect(anyGlobMatches(['a.*', 'b.*'], 'b.1')).toBe(true);
    expect(anyGlobMatches([], 'b.1')).toBe(false);
  });
});
