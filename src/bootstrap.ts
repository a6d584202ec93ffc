import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule, type HubbubExtensions } from './app.module';
import type { HubbubConfig } from './config/config';
import { applyHandshakeLimits } from './http/handshake-limits';
import { applyHttpHardening } from './http/http-hardening';
import { PinoLogger } from './logging/pino-logger';
import { ShutdownService } from './core/shutdown.service';
import { HubbubWsAdapter } from './ws/hubbub-ws.adapter';

/** Creates and starts a Hubbub server; main.ts and the end-to-end tests both boot through here. */
export async function createServer(
  config: HubbubConfig,
  options: {
    logger?: false | ('error' | 'warn' | 'log' | 'debug' | 'verbose')[];
    extensions?: HubbubExtensions;
  } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, options.extensions), {
    logger: options.logger ?? new PinoLogger(config.logLevel, config.nodeId),
  });
  app.useWebSocketAdapter(new HubbubWsAdapter(app));
  applyHttpHardening(app);
  applyHandshakeLimits(app, config);
  await app.listen(config.port, config.host);
  const store = config.databaseUrl ? 'PostgreSQL' : `SQLite ${config.sqlitePath}`;
  const mode = config.redisUrl ? 'cluster mode (Redis)' : 'single instance';
  new Logger('Hubbub').log(
    `listening on http://${config.host}:${config.port} (WebSocket /ws), store ${store}, ${mode}, node ${config.nodeId}`,
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

/** SIGTERM/SIGINT: drain the sockets first, then let Nest close the HTTP server and flush the stores. */
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
}
