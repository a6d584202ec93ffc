import { cpuMsOf } from '../../test/support/cpu';
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

describe('claim globs on hostile input', () => {
  it('matches *a*a*a*a*b against 120 a in well under a millisecond of CPU per call (the old regex took seconds)', async () => {
    const name = `private:${'a'.repeat(120)}`;
    const globs = [
      'private:*a*a*a*a*b',
      `private:${'*a'.repeat(30)}*b`,
      `private:${'*?'.repeat(60)}*b`,
    ];
    const { value: matched, cpuMs } = await cpuMsOf(() =>
      globs.map((glob) => globMatch(glob, name)),
    );
    expect(matched).toEqual([false, false, false]);
    expect(cpuMs).toBeLessThan(50);
  });

  it('agrees with a straightforward matcher on every glob of a small alphabet', () => {
    // Reference: the textbook dynamic programme, O(n*m) and obviously right.
    const reference = (glob: string, name: string): boolean => {
      let row = [true, ...Array<boolean>(name.length).fill(false)];
      for (const g of glob) {
        const next = [row[0] && g === '*'];
        for (let j = 1; j <= name.length; j++) {
          next[j] =
            g === '*' ? next[j - 1] || row[j] : row[j - 1] && (g === '?' || g === name[j - 1]);
        }
        row = next;
      }
      return row[name.length];
    };
    const alphabet = ['a', 'b', '*', '?'];
    const all = (n: number): string[] =>
      n === 0 ? [''] : all(n - 1).flatMap((s) => alphabet.map((c) => s + c));
    const globs = [0, 1, 2, 3, 4, 5].flatMap(all);
    const names = [0, 1, 2, 3, 4, 5].flatMap((n) => all(n).filter((s) => /^[ab]*$/.test(s)));
    for (const glob of globs) {
      for (const name of names) {
        if (globMatch(glob, name) !== reference(glob, name)) {
          throw new Error(`glob ${glob} on ${name}: expected ${reference(glob, name)}`);
        }
      }
    }
  });

  it('keeps the pieces apart: the last piece does not reuse characters of the first', () => {
    expect(globMatch('ab*ba', 'aba')).toBe(false);
    expect(globMatch('ab*ba', 'abba')).toBe(true);
    expect(globMatch('a*a*a', 'aaa')).toBe(true);
    expect(globMatch('a*a*a', 'aa')).toBe(false);
  });
});
