import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildServerOnce, removeBuild } from '../support/child-server';

const REPO = resolve(__dirname, '..', '..');

/**
 * A team's app in its own process, as `node dist/main.js` of a team would run: NestFactory.create and listen with
 * HubbubModule.forRoot(options) and, optionally, two gateways declaring the same event. No useWebSocketAdapter.
 * With TEAM_LOGGER=default, Nest's own logger as a team app gets it with no logger option.
 */
const TEAM_APP = `
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { SubscribeMessage } = require('@nestjs/websockets');
const { HubbubGateway, HubbubModule } = require(process.argv[1]);
const options = JSON.parse(process.argv[2]);
const gateways = [];
for (const name of process.argv.slice(3)) {
  const Gateway = { [name]: class { handle() { return {}; } } }[name];
  const method = Object.getOwnPropertyDescriptor(Gateway.prototype, 'handle');
  SubscribeMessage('team.same')(Gateway.prototype, 'handle', method);
  HubbubGateway()(Gateway);
  gateways.push(Gateway);
}
class Gateways {}
Module({ providers: gateways })(Gateways);
class TeamApp {}
Module({ imports: [HubbubModule.forRoot(options, { imports: [Gateways] })] })(TeamApp);
NestFactory.create(TeamApp, process.env.TEAM_LOGGER === 'default' ? {} : { logger: ['error', 'warn'] })
  .then((app) => app.listen(0, '127.0.0.1').then(() => app.close()))
  .then(() => console.log('started and closed'));
`;

function run(
  options: object,
  gateways: string[] = [],
  logger: 'quiet' | 'default' = 'quiet',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return buildServerOnce().then(
    (main) =>
      new Promise((done) => {
        const index = join(dirname(main), 'index.js');
        const args = ['-e', TEAM_APP, index, JSON.stringify(options), ...gateways];
        execFile(
          process.execPath,
          args,
          { cwd: REPO, env: { PATH: process.env.PATH, TEAM_LOGGER: logger }, timeout: 60_000 },
          (err, stdout, stderr) => done({ code: err ? (err.code as number) : 0, stdout, stderr }),
        );
      }),
  );
}

const STACK = /^\s+at /m;
const sqlitePath = (): string => join(mkdtempSync(join(tmpdir(), 'hubbub-embed-')), 'hubbub.db');

describe('a team app that embeds Hubbub, started in its own process', () => {
  afterAll(removeBuild);

  it('starts and serves without useWebSocketAdapter', async () => {
    const result = await run({ jwtSecret: 'x'.repeat(32), sqlitePath: sqlitePath() });
    expect(result.stdout).toContain('started and closed');
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/socket\.io/i);
  }, 120_000);

  it('stops on an unknown option with one error line and no stack', async () => {
    const result = await run({ jwtSecret: 'x'.repeat(32), nope: 1 });
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([expect.stringContaining('Invalid configuration: unknown option nope')]);
    expect(result.stderr).not.toMatch(STACK);
  }, 120_000);

  // docs/extending.md, "Options": what a team app with Nest's default logger prints for a refused option.
  it.each([
    [{ nope: 1 }, 'Invalid configuration: unknown option nope'],
    [{ http: { helth: true } }, 'Invalid configuration: unknown option http.helth'],
    [
      { maxPayloadBytes: 5 },
      'Invalid configuration: MAX_PAYLOAD_BYTES must not be less than 64 (option maxPayloadBytes)',
    ],
  ])(
    "with Nest's default logger, %j stops the start with Nest's one error line",
    async (option, message) => {
      const result = await run({ jwtSecret: 'x'.repeat(32), ...option }, [], 'default');
      expect(result.code).toBe(1);
      const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toEqual([expect.stringMatching(/ERROR.*\[ExceptionHandler\]/)]);
      expect(lines[0]).toContain(`[ConfigError: ${message}`);
      // Before it, on stdout, only Nest's "Starting Nest application..."
      const out = result.stdout.split('\n').filter((l) => l.trim() !== '');
      expect(out).toEqual([expect.stringContaining('Starting Nest application...')]);
      expect(result.stderr + result.stdout).not.toMatch(STACK);
    },
    120_000,
  );

  it('stops on two gateways declaring one event with one line naming both', async () => {
    const result = await run({ jwtSecret: 'x'.repeat(32), sqlitePath: sqlitePath() }, [
      'VotesGateway',
      'PollsGateway',
    ]);
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      expect.stringContaining(
        'event "team.same" is declared by both VotesGateway.handle and PollsGateway.handle',
      ),
    ]);
    expect(result.stderr).not.toMatch(STACK);
  }, 120_000);
});
