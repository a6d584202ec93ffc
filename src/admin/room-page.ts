/** A page of a sorted listing: names after `cursor` that start with `prefix`, and whether more follow. */
export interface PageQuery {
  prefix?: string;
  limit: number;
  /** The last name of the previous page (exclusive). */
  cursor?: string;
}

/**
 * Sorts by code unit (the order of `<`, the same on every instance), keeps the names that start with `prefix` and
 * come after `cursor`, and takes `limit` of them; `more` says whether another page follows.
 */
export function pageOfNames(
  names: Iterable<string>,
  query: PageQuery,
): { page: string[]; more: boolean } {
  const prefix = query.prefix ?? '';
  const after = query.cursor;
  const matching = [...names]
    .filter((n) => n.startsWith(prefix) && (after === undefined || n > after))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { page: matching.slice(0, query.limit), more: matching.length > query.limit };
}
