import type { Pool, PoolClient } from 'pg';

/** Runs `fn` in one transaction on a client of the pool; a connection that failed is dropped, not reused. */
export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: unknown;
  try {
    await c.query('BEGIN');
    try {
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (e) {
      await c.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback));
      throw e;
    }
  } catch (e) {
    broken ??= e;
    throw e;
  } finally {
    c.release(broken instanceof Error && !isQueryError(broken) ? broken : undefined);
  }
}

/** An error PostgreSQL answered (the connection is fine), as opposed to one of the connection itself. */
function isQueryError(e: Error): boolean {
  return typeof (e as { code?: unknown }).code === 'string' && 'severity' in e;
}
