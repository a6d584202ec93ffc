import type { Pool, PoolClient } from 'pg';

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

/**
 * Checks a client out of the pool for a transaction or a held lock. pg-pool listens for a client's `error` only
 * while it is idle: a checked-out client whose connection the server or the network cuts between two queries would
 * emit an unhandled `error` and end the process. Here it is ignored (the next query on it rejects, and the caller
 * releases it with that error, which destroys it) until `release`.
 */
export async function checkOut(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  client.on('error', ignoreHeldClientError);
  const release = client.release.bind(client);
  client.release = (err?: Error | boolean) => {
    client.off('error', ignoreHeldClientError);
    release(err);
  };
  return client;
}

function ignoreHeldClientError(): void {}
