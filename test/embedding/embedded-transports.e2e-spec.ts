import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubbubModule, TokenVerifier, type HubbubOptions } from '../../src/index';
import { TEST_SECRET } from '../support/secret';
import { StreamRefused, StreamTestClient } from '../support/stream-client';

/**
 * HubbubModule in a team's Nest app: the HTTP transports belong to the socket endpoint, like `/ws`, so they are
 * mounted whatever `http` options the app chose, and the `transports` option (TRANSPORTS) turns each on or off. The
 * app's own JSON body parser reads `POST /stream/send` there.
 */
async function teamApp(options: HubbubOptions): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [HubbubModule.forRoot(options)] })
  class TeamAppModule {}
  const app = await NestFactory.create(TeamAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

const base = (): HubbubOptions => ({
  jwtSecret: TEST_SECRET,
  sqlitePath: join(mkdtempSync(join(tmpdir(), 'hubbub-embed-streams-')), 'hubbub.db'),
  logLevel: 'error',
});

describe("HTTP transports in a team's app (HubbubModule)", () => {
  it.each(['sse', 'stream'] as const)('serves %s with no http option set', async (transport) => {
    const { app, url } = await teamApp(base());
    try {
      const token = await app.get(TokenVerifier).sign({ sub: 'team-user' }, 600);
      const client = await StreamTestClient.connect(transport, url, token);
      expect(client.frames[0]).toMatchObject({ event: 'welcome', data: { userId: 'team-user' } });
      expect(await client.call('chat.join', { room: 'team' })).toMatchObject({ room: 'team' });
      await client.close();
    } finally {
      await app.close();
    }
  });

  it('answers 404 for the transports the transports option leaves out', async () => {
    const { app, url } = await teamApp({ ...base(), transports: 'websocket' });
    try {
      const token = await app.get(TokenVerifier).sign({ sub: 'team-user' }, 600);
      await expect(StreamTestClient.connect('sse', url, token)).rejects.toBeInstanceOf(
        StreamRefused,
      );
      await expect(StreamTestClient.connect('sse', url, token)).rejects.toMatchObject({
        status: 404,
      });
    } finally {
      await app.close();
    }
  });
});
