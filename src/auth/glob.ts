const cache = new Map<string, RegExp>();

/** `*` matches any run of characters, `?` one character; everything else is literal. Compiled once per glob. */
export function globMatch(glob: string, name: string): boolean {
  let re = cache.get(glob);
  if (!re) {
    const body = glob
      .split('')
      .map((ch) =>
        ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\-]/g, '\\$&'),
      )
      .join('');
    re = new RegExp(`^${body}$`);
    if (cache.size > 10_000) cache.clear();
    cache.set(glob, re);
  }
  return re.test(name);
}

export function anyGlobMatches(globs: readonly string[], name: string): boolean {
  return globs.some((g) => globMatch(g, name));
}
