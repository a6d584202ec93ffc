import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HUBBUB_CONFIG,
  HubbubModule,
  TokenVerifier,
  type HubbubConfig,
  type HubbubHttpOptions,
} from '../../src/index';
import {
  api,
  API_KEY,
  auditOf,
  forbidden,
  refused,
  setRole,
} from '../moderation/moderation-support';
import { api as privacyApi } from '../privacy/privacy-support';
import { trackedClients } from '../support/clients';
import { rid, storedMessage, type Message } from '../support/fixtures';
import { TEST_SECRET } from '../support/secret';
import type { TestServer } from '../support/server';
import type { TestClient } from '../support/ws-client';

/**
 * The last batch's features in a team's Nest app that imports HubbubModule (embedded mode): the chat lifecycle and
 * read markers over `/ws`, and moderation and the data of a person through the server API the `http` option mounts
 * (`api: true` with `apiKey`); with `api` left off those routes are 404 while the socket features still work.
 */
type Msg = Message & { mentions?: string[]; editedAt?: number; deleted?: true };

/** A team's app built with NestFactory around HubbubModule.forRoot, as a TestServer for the support helpers. */
async function teamApp(http: HubbubHttpOptions): Promise<TestServer> {
  @Module({
    imports: [
      HubbubModule.forRoot({
        jwtSecret: TEST_SECRET,
        sqlitePath: join(mkdtempSync(join(tmpdir(), 'hubbub-embed-features-')), 'hubbub.db'),
        nodeEnv: 'test',
        logLevel: 'error',
        apiKey: API_KEY,
        http,
      }),
    ],
  })
  class TeamAppModule {}
  const app = await NestFactory.create(TeamAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const verifier = app.get(TokenVerifier);
  return {
    app,
    config: app.get<HubbubConfig>(HUBBUB_CONFIG),
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    token: (sub, claims = {}, ttlSec = 600) => verifier.sign({ sub, ...claims }, ttlSec),
    close: () => app.close(),
  };
}

/** alice and bob, both connected with `connect` and joined to a fresh room. */
async function pair(connect: (sub: string) => Promise<TestClient>) {
  const s = rid();
  const [alice, bob, room] = [`alice-${s}`, `bob-${s}`, `room-${s}`];
  const a = await connect(alice);
  const b = await connect(bob);
  await a.call('chat.join', { room });
  await b.call('chat.join', { room });
  return { room, alice, bob, a, b };
}

const send = async (c: TestClient, room: string, text: string): Promise<Msg> =>
  (await c.call('chat.send', { room, text })).message as Msg;

const searchSeqs = async (c: TestClient, room: string, q: string): Promise<number[]> =>
  ((await c.call('chat.search', { room, q })).messages as Msg[]).map((m) => m.seq);

const unreadOf = async (c: TestClient, room: string): Promise<unknown> =>
  ((await c.call('chat.unread', {})).rooms as { room: string }[]).find((r) => r.room === room);

describe("the last batch's features in a team's app (HubbubModule, http.api on)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await teamApp({ api: true });
  });
  afterAll(() => server?.close());
  const { connect } = trackedClients(() => server);

  it('sends with a mention, edits, reacts, finds the edited text only, and deletes to a tombstone', async () => {
    const { room, alice, bob, a, b } = await pair(connect);
    const sent = await send(a, room, `blue build for @${bob}`);
    expect(sent).toEqual(
      storedMessage({
        room,
        seq: 1,
        userId: alice,
        text: `blue build for @${bob}`,
        mentions: [bob],
      }),
    );
    expect((await b.next('user.mention')).data).toEqual({ room, message: sent });

    const { message: edited } = await a.call('chat.edit', { room, seq: 1, text: 'green build' });
    expect(edited).toEqual({
      ...sent,
      text: 'green build',
      mentions: undefined,
      editedAt: expect.any(Number),
    });
    expect((await b.next('chat.updated')).data).toEqual({ room, message: edited });

    const reacted = await b.call('chat.react', { room, seq: 1, reaction: 'ok', on: true });
    expect(reacted).toEqual({ reactions: { ok: 1 } });
    expect((await a.next('chat.reacted')).data).toEqual({
      room,
      seq: 1,
      reaction: 'ok',
      userId: bob,
      on: true,
      count: 1,
    });

    expect(await searchSeqs(b, room, 'green build')).toEqual([1]);
    expect(await searchSeqs(b, room, 'blue')).toEqual([]);

    expect(await a.call('chat.delete', { room, seq: 1 })).toEqual({});
    expect((await b.next('chat.deleted')).data).toEqual({ room, seq: 1 });
    const history = (await b.call('chat.history', { room })).messages as Msg[];
    expect(history).toEqual([
      expect.objectContaining({ id: sent.id, seq: 1, userId: alice, text: '', deleted: true }),
    ]);
    expect(history[0]).not.toHaveProperty('reactions');
    expect(await searchSeqs(b, room, 'green')).toEqual([]);
  });

  it("counts a second user's unread messages and mentions in chat.join and chat.unread; chat.read lowers them", async () => {
    const s = rid();
    const [bob, room] = [`bob-${s}`, `unread-${s}`];
    const a = await connect(`alice-${s}`);
    await a.call('chat.join', { room });
    for (const text of ['one', `two @${bob}`, 'three']) await send(a, room, text);

    const b = await connect(bob);
    expect(await b.call('chat.join', { room })).toMatchObject({
      room,
      seq: 3,
      lastRead: 0,
      unread: 3,
    });
    // chat.unread lists the rooms where the user has a read marker: the first chat.read makes it.
    expect(await unreadOf(b, room)).toBeUndefined();
    expect(await b.call('chat.read', { room, seq: 1 })).toEqual({});
    expect((await a.next('chat.read')).data).toEqual({ room, userId: bob, seq: 1 });
    expect(await unreadOf(b, room)).toEqual({ room, seq: 3, lastRead: 1, unread: 2, mentions: 1 });

    expect(await b.call('chat.read', { room, seq: 2 })).toEqual({});
    expect((await a.next('chat.read')).data).toEqual({ room, userId: bob, seq: 2 });
    expect(await unreadOf(b, room)).toEqual({ room, seq: 3, lastRead: 2, unread: 1, mentions: 0 });
    await b.call('chat.leave', { room });
    expect(await b.call('chat.join', { room })).toMatchObject({ seq: 3, lastRead: 2, unread: 1 });
  });

  it('moderates through the server API: a role, a ban refusing joins, the audit log, an unban, a mute', async () => {
    const { room, bob, b } = await pair(connect);
    const mod = `mod-${rid()}`;
    await setRole(server, room, mod, 'moderator');
    expect((await b.next('room.role')).data).toEqual({ room, userId: mod, role: 'moderator' });

    const ban = await api(server, 'POST', `/api/rooms/${room}/bans`, {
      userId: bob,
      reason: 'spam',
    });
    expect(ban.status).toBe(204);
    expect((await b.next('chat.left')).data).toEqual({ room, reason: 'banned' });
    expect((await refused(b, 'chat.join', { room })).data).toEqual(forbidden('banned'));
    expect(await auditOf(server, room)).toEqual([
      { ts: expect.any(Number), action: 'ban', userId: bob, by: 'server', reason: 'spam' },
      expect.objectContaining({ action: 'role', userId: mod, by: 'server', role: 'moderator' }),
    ]);

    expect((await api(server, 'DELETE', `/api/rooms/${room}/bans/${bob}`)).status).toBe(204);
    expect(await b.call('chat.join', { room })).toMatchObject({ room });
    expect((await auditOf(server, room))[0]).toEqual({
      ts: expect.any(Number),
      action: 'unban',
      userId: bob,
      by: 'server',
    });

    const mute = await api(server, 'POST', `/api/rooms/${room}/mutes`, { userId: bob });
    expect(mute.status).toBe(204);
    expect((await refused(b, 'chat.send', { room, text: 'x' })).data).toEqual(forbidden('muted'));
    // A muted user still reads.
    expect(await b.call('chat.history', { room })).toEqual({ room, messages: [] });
  });

  it('exports a user as streamed JSON, and erasing them closes their socket with 4403 and leaves a tombstone', async () => {
    const { room, alice, a, b } = await pair(connect);
    const mine = await send(a, room, 'my words');
    const kept = await send(b, room, 'not hers');

    const exported = await privacyApi(server.url, 'GET', `/api/users/${alice}/export`, API_KEY);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^application\/json/);
    const doc = JSON.parse(exported.text) as { userId: string; messages: Msg[] };
    expect(doc.userId).toBe(alice);
    expect(doc.messages).toEqual([expect.objectContaining({ room, seq: 1, text: 'my words' })]);
    expect((await privacyApi(server.url, 'GET', `/api/users/${alice}/export`, null)).status).toBe(
      401,
    );

    const closed = a.waitClose(10_000);
    expect((await privacyApi(server.url, 'DELETE', `/api/users/${alice}`, API_KEY)).status).toBe(
      202,
    );
    expect(await closed).toBe(4403);
    expect((await b.call('chat.history', { room })).messages).toEqual([
      { id: mine.id, room, seq: 1, userId: alice, text: '', ts: mine.ts, deleted: true },
      kept,
    ]);
  });
});

describe("a team's app with http.api off (HubbubModule)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await teamApp({ health: true });
  });
  afterAll(() => server?.close());
  const { connect } = trackedClients(() => server);

  it('answers 404 on the moderation and privacy routes, even with the key, and changes nothing', async () => {
    const { room, alice, bob, a, b } = await pair(connect);
    expect((await api(server, 'GET', '/health')).status).toBe(200);
    const calls: [Parameters<typeof api>[1], string, unknown?][] = [
      ['PUT', `/api/rooms/${room}/roles/${bob}`, { role: 'moderator' }],
      ['POST', `/api/rooms/${room}/bans`, { userId: bob }],
      ['DELETE', `/api/rooms/${room}/bans/${bob}`],
      ['POST', `/api/rooms/${room}/mutes`, { userId: bob }],
      ['GET', `/api/rooms/${room}/audit`],
      ['GET', `/api/users/${alice}/export`],
      ['DELETE', `/api/users/${alice}`],
    ];
    for (const [method, path, body] of calls) {
      expect([method, path, (await api(server, method, path, body)).status]).toEqual([
        method,
        path,
        404,
      ]);
    }
    // Neither banned, muted nor erased: both still send, and alice's socket is open.
    await send(b, room, 'still here');
    await send(a, room, 'me too');
    expect(a.closeCode).toBeUndefined();
    expect(await a.call('room.info', { room })).toMatchObject({ owners: [], moderators: [] });
  });

  it('serves the chat lifecycle and read markers over the socket', async () => {
    const { room, bob, a, b } = await pair(connect);
    const sent = await send(a, room, `old text @${bob}`);
    expect((await b.next('user.mention')).data).toEqual({ room, message: sent });
    await a.call('chat.edit', { room, seq: 1, text: 'new text' });
    await b.call('chat.react', { room, seq: 1, reaction: 'up', on: true });
    expect(await searchSeqs(b, room, 'new')).toEqual([1]);
    expect(await searchSeqs(b, room, 'old')).toEqual([]);
    await b.call('chat.read', { room, seq: 1 });
    await send(a, room, 'second');
    await b.call('chat.leave', { room });
    expect(await b.call('chat.join', { room })).toMatchObject({ seq: 2, lastRead: 1, unread: 1 });
    expect(await unreadOf(b, room)).toEqual({ room, seq: 2, lastRead: 1, unread: 1, mentions: 0 });
    await b.call('chat.read', { room, seq: 2 });
    expect(await unreadOf(b, room)).toMatchObject({ seq: 2, lastRead: 2, unread: 0 });
    await a.call('chat.delete', { room, seq: 1 });
    expect((await b.call('chat.history', { room })).messages[0]).toMatchObject({
      seq: 1,
      text: '',
      deleted: true,
    });
  });
});
