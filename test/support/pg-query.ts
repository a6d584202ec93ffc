import { Client } from 'pg';

/**
 * Runs one statement on a connection of its own (opened, then closed whatever happens) and returns its rows: for a
 * test's schema (CREATE / DROP) and for reading what the server wrote.
 */
export async function pgQuery<T = unknown>(connectionString: string, text: string): Promise<T[]> {
  const c = new Client({ connectionString });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}
