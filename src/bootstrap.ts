import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server as HttpsServer, ServerOptions as HttpsServerOptions } from 'node:https';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { ClientAddresses } from './common/client-address';
import { loadTls, type HubbubConfig } from './config/config';
import { assertPortFree, listenError } from './config/startup-checks';
import type { HubbubExtensions } from './hubbub.module';
import { applyHandshakeLimits } from './http/handshake-limits';
import { applyHttpHardening } from './http/http-hardening';
import { applyStreamBodies } from './http/stream-body';
import { PinoLogger } from './logging/pino-logger';
import { ShutdownService } from './lifecycle/shutdown.service';

/** Connections the kernel may queue before the server accepts them. */
export const LISTEN_BACKLOG = 8192;

/** Creates and starts a Hubbub server; main.ts and the end-to-end tests both boot through here. */
export async function createServer(
  config: HubbubConfig,
  options: {
    logger?: false | ('error' | 'warn' | 'log' | 'debug' | 'verbose')[];
    extensions?: HubbubExtensions;
  } = {},
): Promise<INestApplication> {
  // Before Nest starts (and says "successfully started"): a port in use stops the start in one line.
  await assertPortFree(config.port, config.host);
  const app = await NestFactory.create(AppModule.forRoot(config, options.extensions), {
    logger:
      options.logger ??
      new PinoLogger(config.logLevel, config.nodeId, { pretty: config.env === 'development' }),
    // TLS: the HTTPS server also carries the WebSocket upgrades (wss://) on the same port.
    // The TLS handshake has the bound a request has (HANDSHAKE_TIMEOUT_MS); see http/handshake-limits.ts.
    // (Nest hands these options to https.createServer as they are; its type does not list every key.)
    httpsOptions: config.tls && {
      cert: config.tls.cert,
      key: config.tls.key,
      ...({ handshakeTimeout: config.handshakeTimeoutMs } satisfies HttpsServerOptions),
    },
  });
  // `req.ip` is the client's address as ClientAddresses resolves it (TRUSTED_PROXIES).
  (app as NestExpressApplication).set('trust proxy', app.get(ClientAddresses).isTrusted);
  applyStreamBodies(app, config);
  applyHttpHardening(app);
  applyHandshakeLimits(app, config);
  // A deep accept queue (the kernel caps it at net.core.somaxconn): a reconnect storm after a restart, all of it from
  // one proxy, waits in the kernel while the event loop is busy instead of having its SYNs dropped (Node: 511).
  // (Nest passes extra arguments on to server.listen; its type does not list the backlog.)
  const withBacklog = app as unknown as {
    listen(port: number, host: string, backlog: number): Promise<unknown>;
  };
  try {
    await withBacklog.listen(config.port, config.host, LISTEN_BACKLOG);
  } catch (err) {
    // Taken between the check above and now: the same one line.
    await app.close();
    throw listenError(err as NodeJS.ErrnoException, config.port, config.host);
  }
  const store = config.databaseUrl ? 'PostgreSQL' : `SQLite ${config.sqlitePath}`;
  const mode = config.redis
    ? `cluster mode (Redis${'sentinels' in config.redis ? ' Sentinel' : ''})`
    : 'single instance';
  new Logger('Hubbub').log(
    `listening on ${config.tls ? 'https' : 'http'}://${config.host}:${config.port} (WebSocket /ws), store ${store}, ${mode}, node ${config.nodeId}`,
  );
  if (config.jwt.secretIgnored) {
    new Logger('Hubbub').warn(
      'JWT_SECRET is ignored: JWT_PUBLIC_KEY is set and decides how tokens are verified',
    );
  }
  if (config.jwt.ephemeral) {
    new Logger('Hubbub').warn(
      'JWT_SECRET is not set: using a random key made for this run; tokens from another run will be refused',
    );
  }
  return app;
}

/**
 * Reads TLS_CERT_FILE / TLS_KEY_FILE again and serves the new certificate to new connections; open ones keep
 * theirs. Files that fail the start-up checks leave the current certificate in place. Returns whether the new
 * one is now served. The process runs it on SIGHUP (see installShutdown), so a renewal needs no restart.
 */
export function reloadTls(app: INestApplication, config: HubbubConfig): boolean {
  const logger = new Logger('Hubbub');
  if (!config.tls) return false;
  try {
    const fresh = loadTls(config.tls.certFile, config.tls.keyFile)!;
    (app.getHttpServer() as HttpsServer).setSecureContext({ cert: fresh.cert, key: fresh.key });
    logger.log(`TLS certificate reloaded from ${fresh.certFile}`);
    return true;
  } catch (err) {
    logger.error(`TLS certificate not reloaded, the current one stays: ${(err as Error).message}`);
    return false;
  }
}

/**
 * SIGTERM/SIGINT: drain the sockets first, then let Nest close the HTTP server and flush the stores.
 * SIGHUP never ends the process: with TLS it reloads the certificate and key, without it logs one line.
 */
export function installShutdown(app: INestApplication, config: HubbubConfig): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    const hardStop = setTimeout(() => {
      logger.error(`shutdown exceeded ${config.shutdownTimeoutMs} ms, exiting`);
      process.exit(0);
    }, config.shutdownTimeoutMs);
    hardStop.unref();
    void (async () => {
      try {
        await app.get(ShutdownService).drainConnections();
        await app.close();
        process.exit(0);
      } catch (err) {
        logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (config.tls) reloadTls(app, config);
    else logger.log('SIGHUP: no TLS files to reload (TLS is off), nothing to do');
  });
}
