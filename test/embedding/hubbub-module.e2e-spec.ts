import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChatService,
  HubbubError,
  HubbubModule,
  MessageHooks,
  TokenVerifier,
  type MessageContext,
  type MessageDraft,
  type StoredMessage,
} from '../../src/index';
import { rid } from '../support/fixtures';
import { TEST_SECRET } from '../support/secret';
import { TestClient } from '../support/ws-client';

/** A team's configuration provider, as @nestjs/config's ConfigService would be. */
@Injectable()
class TeamSettings {
  readonly secret = TEST_SECRET;
  readonly dir = mkdtempSync(join(tmpdir(), 'hubbub-module-'));
}
@Module({ providers: [TeamSettings], exports: [TeamSettings] })
class TeamSettingsModule {}

/** Moderation through the hooks: rewrites, refuses, and records stored messages (failing once on purpose). */
@Injectable()
class Moderation extends MessageHooks {
  readonly stored: StoredMessage[] = [];
  readonly contexts: MessageContext[] = [];
  private failedOnce = false;
  private storedWaiters: ((m: StoredMessage) => void)[] = [];

  beforeSend(ctx: MessageContext, draft: MessageDraft): MessageDraft {
    this.contexts.push(ctx);
    if (draft.text.includes('forbidden-word')) throw new HubbubError('forbidden', 'Not here');
    return { ...draft, text: draft.text.replace(/darn/g, '****') };
  }

  afterStore(message: StoredMessage): void {
    this.stored.push(message);
    for (const waiter of this.storedWaiters.splice(0)) waiter(message);
    if (!this.failedOnce) {
      this.failedOnce = true;
      throw new Error('afterStore failure that must be logged and dropped');
    }
  }

  nextStored(): Promise<StoredMessage> {
    return new Promise((resolve) => this.storedWaiters.push(resolve));
  }
}

describe('HubbubModule in a team app', () => {
  let app: INestApplication;
  let wsUrl: string;
  let token: (sub: string) => Promise<string>;

  @Module({
    imports: [
      HubbubModule.forRootAsync(
        {
          imports: [TeamSettingsModule],
          inject: [TeamSettings],
          useFactory: (settings: TeamSettings) => ({
            jwtSecret: settings.secret,
            sqlitePath: join(settings.dir, 'hubbub.db'),
            nodeEnv: 'test',
            apiKey: 'team-key',
          }),
          http: { api: true },
        },
        { providers: [{ provide: MessageHooks, useClass: Moderation }] },
      ),
    ],
  })
  class TeamAppModule {}

  beforeAll(async () => {
    app = await NestFactory.create(TeamAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    wsUrl = `ws://127.0.0.1:${port}/ws`;
    const verifier = app.get(TokenVerifier);
    token = (sub) => verifier.sign({ sub }, 600);
  });
  afterAll(() => app.close());

  it('serves the socket with options from the async factory (the team secret signs tokens)', async () => {
    const client = await TestClient.connect(wsUrl, await token(`u-${rid()}`));
    expect((await client.request('ping', {})).event).toBe('pong');
    await client.close();
  });

  it('stores what beforeSend returns, runs afterStore after the reply, and drops its error', async () => {
    const user = `u-${rid()}`;
    const room = `r-${rid()}`;
    const client = await TestClient.connect(wsUrl, await token(user));
    await client.request('chat.join', { room });
    const hooks = app.get<MessageHooks, Moderation>(MessageHooks);
    const stored = hooks.nextStored();
    const reply = await client.request('chat.send', { room, text: 'oh darn it' });
    expect((reply.data as { message: StoredMessage }).message.text).toBe('oh **** it');
    expect((await stored).text).toBe('oh **** it');
    expect(hooks.contexts.at(-1)).toMatchObject({ userId: user });
    // The first afterStore threw: the server carried on and the next message is stored and hooked as well.
    const next = hooks.nextStored();
    await client.request('chat.send', { room, text: 'again' });
    expect((await next).text).toBe('again');
    await client.close();
  });

  it('answers forbidden when beforeSend throws, and stores nothing', async () => {
    const room = `r-${rid()}`;
    const client = await TestClient.connect(wsUrl, await token(`u-${rid()}`));
    await client.request('chat.join', { room });
    const refused = await client.request('chat.send', { room, text: 'a forbidden-word here' });
    expect(refused.event).toBe('error');
    expect((refused.data as { code: string }).code).toBe('forbidden');
    const history = await app.get(ChatService).history(undefined, { room });
    expect(history).toEqual([]);
    await client.close();
  });

  it('runs the hooks for messages posted through the server API too (no connection in the context)', async () => {
    const room = `r-${rid()}`;
    const { port } = app.getHttpServer().address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/api/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer team-key', 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'backend', text: 'darn' }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { message: StoredMessage }).message.text).toBe('****');
    const hooks = app.get<MessageHooks, Moderation>(MessageHooks);
    expect(hooks.contexts.at(-1)).toEqual({
      userId: 'backend',
      name: undefined,
      connection: undefined,
    });
  });

  it('refuses invalid options with the one-line configuration error naming the key', async () => {
    // Validated while Nest creates the providers (test/embedding.e2e-spec.ts checks the line has no stack).
    @Module({ imports: [HubbubModule.forRoot({ maxPayloadBytes: 1 })] })
    class Invalid {}
    await expect(
      NestFactory.create(Invalid, { logger: false, abortOnError: false }),
    ).rejects.toThrow(/MAX_PAYLOAD_BYTES/);
  });
});
