import { Logger, Module, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubbubModule, HubbubWsAdapter, TokenVerifier, type HubbubOptions } from '../../src/index';
import type { HubbubAsyncOptions } from '../../src/hubbub.module';
import { TEST_SECRET } from '../support/secret';
import { TestClient } from '../support/ws-client';

/** What a team's production app gives Hubbub: the options production requires, nothing about routes. */
const PRODUCTION: HubbubOptions = {
  nodeEnv: 'production',
  jwtSecret: TEST_SECRET,
  allowedOrigins: ['https://app.example'],
  logLevel: 'error',
};

/** Warnings Nest's logger received, to see the dev-token warning line. */
class Recorder implements LoggerService {
  readonly warnings: string[] = [];
  /** `context: message` of each log line. */
  readonly logs: string[] = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.logs.push(`${String(rest[rest.length - 1])}: ${String(message)}`);
  }
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

interface TeamApp {
  app: INestApplication;
  url: string;
  wsUrl: string;
  logger: Recorder;
}

async function teamApp(
  imports: Parameters<typeof Module>[0]['imports'],
  oldWiring = false,
): Promise<TeamApp> {
  @Module({ imports })
  class TeamAppModule {}
  const logger = new Recorder();
  const app = await NestFactory.create(TeamAppModule, { logger, abortOnError: false });
  // No useWebSocketAdapter needed: Hubbub attaches /ws itself. Apps wired for earlier versions still call it.
  if (oldWiring) app.useWebSocketAdapter(new HubbubWsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, logger };
}

const sqlite = (): string => join(mkdtempSync(join(tmpdir(), 'hubbub-embed-')), 'hubbub.db');

/** Every route Hubbub can mount, with the option that mounts it. */
const ROUTES: { option: string; method: string; path: string }[] = [
  { option: 'devTokens', method: 'POST', path: '/dev/token' },
  { option: 'demo', method: 'GET', path: '/' },
  { option: 'metrics', method: 'GET', path: '/metrics' },
  { option: 'docs', method: 'GET', path: '/asyncapi.json' },
  { option: 'docs', method: 'GET', path: '/api/openapi.json' },
  { option: 'docs', method: 'GET', path: '/api/docs' },
  { option: 'docs', method: 'GET', path: '/api/docs/swagger-ui-bundle.js' },
  { option: 'health', method: 'GET', path: '/health' },
  { option: 'health', method: 'GET', path: '/health/ready' },
  { option: 'api', method: 'GET', path: '/api/stats' },
  { option: 'admin', method: 'GET', path: '/admin' },
];

const status = async (url: string, method: string): Promise<number> => {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: 'Bearer team-key-that-is-long-enough-0123456789',
      'content-type': 'application/json',
    },
    body: method === 'POST' ? JSON.stringify({ userId: 'alice' }) : undefined,
  });
  await res.arrayBuffer();
  return res.status;
};

describe('HubbubModule embedded in a team app', () => {
  const saved = process.env.NODE_ENV;
  afterAll(() => {
    process.env.NODE_ENV = saved;
  });

  it('with NODE_ENV=production and default options mounts no route, and still serves the socket', async () => {
    process.env.NODE_ENV = 'production';
    const team = await teamApp([HubbubModule.forRoot({ ...PRODUCTION, sqlitePath: sqlite() })]);
    try {
      for (const { method, path } of ROUTES) {
        expect([path, await status(team.url + path, method)]).toEqual([path, 404]);
      }
      expect(team.logger.warnings.filter((w) => w.includes('dev tokens'))).toEqual([]);
      const token = await team.app.get(TokenVerifier).sign({ sub: 'alice' }, 60);
      const client = await TestClient.connect(team.wsUrl, token);
      expect((await client.call('ping')).ts).toEqual(expect.any(Number));
      await client.close();
    } finally {
      await team.app.close();
    }
  });

  it('keeps serving the socket for an app that still installs HubbubWsAdapter', async () => {
    const team = await teamApp(
      [HubbubModule.forRoot({ jwtSecret: TEST_SECRET, sqlitePath: sqlite() })],
      true,
    );
    try {
      const token = await team.app.get(TokenVerifier).sign({ sub: 'bob' }, 60);
      const client = await TestClient.connect(team.wsUrl, token);
      expect((await client.call('server.stats')).connections).toBe(1);
      await client.close();
    } finally {
      await team.app.close();
    }
  });

  it.each(['health', 'metrics', 'api', 'docs', 'demo'])(
    'http.%s mounts its routes and only those',
    async (option) => {
      const team = await teamApp([
        HubbubModule.forRoot({
          jwtSecret: TEST_SECRET,
          sqlitePath: sqlite(),
          apiKey: 'team-key-that-is-long-enough-0123456789',
          http: { [option]: true },
        }),
      ]);
      try {
        for (const route of ROUTES) {
          const expected = route.option === option ? 200 : 404;
          expect([route.path, await status(team.url + route.path, route.method)]).toEqual([
            route.path,
            expected,
          ]);
        }
      } finally {
        await team.app.close();
      }
    },
  );

  it('http.docs serves the OpenAPI document and Swagger UI with no call from the app', async () => {
    const team = await teamApp([
      HubbubModule.forRoot({
        jwtSecret: TEST_SECRET,
        sqlitePath: sqlite(),
        apiKey: 'team-key-that-is-long-enough-0123456789',
        http: { docs: true, api: true },
      }),
    ]);
    try {
      const linesBefore = team.logger.logs.length;
      const doc = (await (await fetch(`${team.url}/api/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      // The document is read from a preview application: its start lines are not the team's, and the team's
      // logger is the static one again afterwards.
      expect(team.logger.logs.slice(linesBefore)).toEqual([]);
      new Logger('TeamService').warn('still the team logger');
      expect(team.logger.warnings).toContain('still the team logger');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/stats', '/api/channels/{channel}/publish']),
      );
      const page = await (await fetch(`${team.url}/api/docs`)).text();
      for (const src of page.match(/(?:src|href)="docs\/[^"]+"/g) ?? []) {
        const file = src.slice(src.indexOf('"') + 1, -1);
        expect([file, await status(`${team.url}/api/${file}`, 'GET')]).toEqual([file, 200]);
      }
      expect(page).toContain('docs/swagger-ui-init.js');
    } finally {
      await team.app.close();
    }
  });

  it('http.admin with http.api mounts the dashboard', async () => {
    const team = await teamApp([
      HubbubModule.forRoot({
        jwtSecret: TEST_SECRET,
        sqlitePath: sqlite(),
        apiKey: 'team-key-that-is-long-enough-0123456789',
        http: { api: true, admin: true },
      }),
    ]);
    try {
      expect(await status(`${team.url}/admin`, 'GET')).toBe(200);
      expect(await status(`${team.url}/health`, 'GET')).toBe(404);
    } finally {
      await team.app.close();
    }
  });

  it('devTokens: true mounts POST /dev/token, with one warning line at start', async () => {
    const team = await teamApp([
      HubbubModule.forRoot({ jwtSecret: TEST_SECRET, sqlitePath: sqlite(), devTokens: true }),
    ]);
    try {
      expect(await status(`${team.url}/dev/token`, 'POST')).toBe(201);
      expect(team.logger.warnings.filter((w) => w.includes('dev tokens'))).toEqual([
        expect.stringContaining('POST /dev/token'),
      ]);
    } finally {
      await team.app.close();
    }
  });

  it('forRootAsync takes http and devTokens beside its factory', async () => {
    const team = await teamApp([
      HubbubModule.forRootAsync({
        useFactory: () => ({ jwtSecret: TEST_SECRET, sqlitePath: sqlite() }),
        http: { health: true },
        devTokens: true,
      }),
    ]);
    try {
      expect(await status(`${team.url}/health`, 'GET')).toBe(200);
      expect(await status(`${team.url}/dev/token`, 'POST')).toBe(201);
      expect(await status(`${team.url}/metrics`, 'GET')).toBe(404);
    } finally {
      await team.app.close();
    }
  });
});

describe('HubbubModule option errors', () => {
  /** NestFactory.create's refusal: the error, checked to be one line with no stack frames. */
  async function refusal(module: ReturnType<typeof HubbubModule.forRoot>): Promise<string> {
    @Module({ imports: [module] })
    class TeamAppModule {}
    let error: unknown;
    try {
      const app = await NestFactory.create(TeamAppModule, { logger: false, abortOnError: false });
      await app.close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    const { message, stack } = error as Error;
    expect(message).not.toContain('\n');
    expect(stack).not.toContain('\n');
    return message;
  }

  it('refuses an unknown option, an unknown route and admin without api, in one line', async () => {
    expect(await refusal(HubbubModule.forRoot({ nope: 1 } as HubbubOptions))).toBe(
      'Invalid configuration: unknown option nope',
    );
    expect(await refusal(HubbubModule.forRoot({ http: { helth: true } } as HubbubOptions))).toMatch(
      /unknown option http\.helth/,
    );
    expect(await refusal(HubbubModule.forRoot({ http: { admin: true } }))).toMatch(
      /http\.admin needs http\.api/,
    );
    expect(await refusal(HubbubModule.forRoot({ maxPayloadBytes: 1 }))).toMatch(
      /MAX_PAYLOAD_BYTES/,
    );
  });

  it('refuses route options returned by the forRootAsync factory', async () => {
    const async = { useFactory: () => ({ http: { health: true } }) } as HubbubAsyncOptions;
    expect(await refusal(HubbubModule.forRootAsync(async))).toMatch(/option http goes beside/);
  });

  it('refuses dev tokens in production', async () => {
    expect(await refusal(HubbubModule.forRoot({ ...PRODUCTION, devTokens: true }))).toMatch(
      /DEV_TOKENS must not be enabled/,
    );
  });
});
