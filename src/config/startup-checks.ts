import { createServer } from 'node:net';
import { ConfigError } from './config-error';

/**
 * What can only be found out when the server starts, told in one line naming the key to fix (a ConfigError:
 * main.ts and the logger print its message, never a stack).
 */

/** Listens on PORT/HOST for a moment before Nest starts, so that a port in use stops the start in one line. */
export function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, port, host)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** A listen error as one line: the port in use, a port that needs privileges, or a HOST that is not here. */
export function listenError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  if (err.code === 'EADDRINUSE') {
    return new ConfigError(
      `Cannot start: PORT ${port} is already in use on ${host} (another Hubbub?); stop that process or set another PORT`,
    );
  }
  if (err.code === 'EACCES') {
    return new ConfigError(
      `Cannot start: PORT ${port} on ${host} needs privileges this process lacks; set PORT to 1024 or above`,
    );
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new ConfigError(
      `Cannot start: HOST ${host} is not an address of this machine (${err.code}); correct HOST`,
    );
  }
  return err;
}

/** The store's first connection failed: name the key (DATABASE_URL or SQLITE_PATH) and what was tried. */
export function storeUnreachable(
  store: { databaseUrl?: string; sqlitePath: string },
  err: unknown,
): ConfigError {
  const reason = err instanceof Error ? err.message : String(err);
  if (store.databaseUrl === undefined) {
    return new ConfigError(
      `Cannot start: SQLITE_PATH ${store.sqlitePath} cannot be opened (${reason}); correct SQLITE_PATH or the folder's permissions`,
    );
  }
  return new ConfigError(
    `Cannot start: the PostgreSQL store at DATABASE_URL (${redactUrl(store.databaseUrl)}) cannot be opened (${reason}); start PostgreSQL there or correct DATABASE_URL`,
  );
}

/** A URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
