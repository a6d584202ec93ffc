/**
 * pg lets an `options` parameter in the URL silently override the `options`
 * config field, which would drop our search_path. So when the URL carries its
 * own `options`, append ours to it in the URL instead (later -c settings win).
 */
export function connectionWithOptions(
  url: string,
  options: string,
): { connectionString: string; options?: string } {
  try {
    const u = new URL(url);
    const existing = u.searchParams.get('options');
    if (existing !== null) {
      u.searchParams.set('options', `${existing} ${options}`);
      return { connectionString: u.toString() };
    }
  } catch {
    // not WHATWG-parseable (e.g. a socket path): leave the URL alone
  }
  return { connectionString: url, options };
}
