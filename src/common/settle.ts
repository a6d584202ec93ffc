/**
 * Runs synchronous work as a promise: resolves with its result, or rejects with what it throws. In-memory and
 * embedded backends use it so that they fail the way an async backend does (a rejection, never a throw).
 */
export function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}
