import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubbubExtensions } from '../../src/hubbub.module';
import { createServer } from '../../src/bootstrap';
import { loadConfig, type HubbubConfig } from '../../src/config/config';
import { TokenVerifier } from '../../src/auth/token-verifier';

import { TEST_SECRET } from './secret';

export { TEST_SECRET };

export interface TestServer {
  app: INestApplication;
  config: HubbubConfig;
  port: number;
  url: string;
  wsUrl: string;
  /** Signs an HS256 token with the server's secret. */
  token(sub: string, claims?: Record<string, unknown>, ttlSec?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * Boots a real Hubbub server in this process on a free port, with a fresh SQLite file unless the environment
 * overrides say otherwise. `env` uses the contract's variable names.
 */
export async function startServer(
  env: Record<string, string> = {},
  extensions?: HubbubExtensions,
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    DEV_TOKENS: 'true',
    JWT_SECRET: TEST_SECRET,
    SQLITE_PATH: join(dir, 'hubbub.db'),
    LOG_LEVEL: 'error',
    ...env,
  });
  const app = await createServer(config, { logger: ['error'], extensions });
  const port = (app.getHttpServer() as { address(): AddressInfo }).address().port;
  const verifier = app.get(TokenVerifier);
  return {
    app,
    config,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    // Signed by the server's own verifier, so that servers configured with other keys, issuers or audiences work.
    token: (sub, claims = {}, ttlSec = 3600) => verifier.sign({ sub, ...claims }, ttlSec),
    close: () => app.close(),
  };
}
