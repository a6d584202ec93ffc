import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { HubbubClient, type HubbubError } from 'hubbub-client';
import WebSocket from 'ws';
import { createTeamApp } from '../src/main';

/** Node's WebSocket cannot set headers; `ws` can: a constructor that sends the team's identity header. */
function asUser(userId: string): typeof globalThis.WebSocket {
  class HeaderWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-team-user': userId } });
    }
  }
  return HeaderWebSocket as unknown as typeof globalThis.WebSocket;
}

function nextEvent<T>(client: HubbubClient, event: string): Promise<T> {
  return new Promise((resolve) => {
    const handler = (data: T): void => {
      client.off(event, handler);
      resolve(data);
    };
    client.on(event, handler);
  });
}

let app: INestApplication;
let url: string;
let httpUrl: string;
let port: number;
const clients: HubbubClient[] = [];

async function connect(userId: string): Promise<HubbubClient> {
  const client = new HubbubClient(url, { WebSocket: asUser(userId), reconnect: false });
  clients.push(client);
  await client.connect();
  return client;
}

before(async () => {
  process.env.TEAM_SQLITE_PATH = join(mkdtempSync(join(tmpdir(), 'team-app-')), 'team.db');
  app = await createTeamApp(0);
  ({ port } = app.getHttpServer().address() as { port: number });
  url = `ws://127.0.0.1:${port}/ws`;
  httpUrl = `http://127.0.0.1:${port}`;
});

after(async () => {
  for (const client of clients) client.close();
  await app.close();
});

test('refuses an upgrade without the team header with 401, before any socket exists', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('upgraded without authentication')));
    ws.once('error', () => undefined);
  });
  assert.equal(status, 401);
});

test('welcomes a user the header authenticator admitted', async () => {
  const alice = await connect('alice');
  assert.equal(alice.welcome?.userId, 'alice');
});

test('stores what the word filter lets through (trimmed) and pushes it to the room', async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  await alice.join('lobby');
  await bob.join('lobby');
  const pushed = nextEvent<{ text: string; userId: string }>(bob, 'chat.message');
  const stored = await alice.send('lobby', '  hello team  ');
  assert.equal(stored.text, 'hello team');
  assert.deepEqual(await pushed, { ...stored });
});

test('refuses a banned word with forbidden and stores nothing', async () => {
  const alice = await connect('alice');
  await alice.join('lobby');
  const before = await alice.request<{ messages: unknown[] }>('chat.history', { room: 'lobby' });
  await assert.rejects(alice.send('lobby', 'cheap SPAM here'), (err: HubbubError) => {
    assert.equal(err.code, 'forbidden');
    return true;
  });
  const after = await alice.request<{ messages: unknown[] }>('chat.history', { room: 'lobby' });
  assert.equal(after.messages.length, before.messages.length);
});

test('answers the team event poll.vote and pushes the results through PushService', async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  const results = nextEvent<{ poll: string; yes: number; no: number }>(bob, 'poll.results');
  const reply = await alice.request('poll.vote', { poll: 'lunch', choice: 'yes' });
  assert.deepEqual(reply, { poll: 'lunch', yes: 1, no: 0 });
  assert.deepEqual(await results, { poll: 'lunch', yes: 1, no: 0 });
});

test("validates the team event's DTO with Hubbub's validation_failed", async () => {
  const alice = await connect('alice');
  await assert.rejects(alice.request('poll.vote', { poll: 'lunch', choice: 'maybe' }), (err: HubbubError) => {
    assert.equal(err.code, 'validation_failed');
    return true;
  });
});

test('mounts only the routes the team enabled (health, api), and no dev tokens', async () => {
  assert.equal((await fetch(`${httpUrl}/health/ready`)).status, 200);
  for (const path of ['/metrics', '/asyncapi.json', '/', '/admin']) {
    assert.equal((await fetch(httpUrl + path)).status, 404, path);
  }
  const devToken = await fetch(`${httpUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'mallory' }),
  });
  assert.equal(devToken.status, 404);
});

test("answers HTTP with Hubbub's hardening: helmet's headers, and 400 for a malformed JSON body", async () => {
  const health = await fetch(`${httpUrl}/health`);
  assert.equal(health.status, 200);
  assert.match(health.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(health.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(health.headers.get('x-powered-by'), null);
  const malformed = await fetch(`${httpUrl}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":',
  });
  assert.equal(malformed.status, 400);
  assert.deepEqual(await malformed.json(), {
    statusCode: 400,
    message: 'Malformed JSON body',
    error: 'Bad Request',
  });
});

/** A TCP connection that never sends its request; resolves once connected. */
function silent(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

// Last: it holds the pending connections until it ends.
test(
  "applies Hubbub's handshake limits: past 64 connections without a request, the oldest is cut",
  { timeout: 20_000 },
  async (t) => {
    const held: Socket[] = [];
    const release = (): void => {
      for (const socket of held) socket.destroy();
    };
    // Released on a timeout too, so that a failure does not keep the app from closing.
    t.signal.addEventListener('abort', release);
    try {
      for (let i = 0; i < 65; i++) held.push(await silent()); // in order, one at a time
      for (const socket of held) socket.on('error', () => undefined);
      // The oldest is cut once it is no longer fresh; without the limits it would stay open for the 60 s handshake
      // timeout (and the test time out). The newest is kept.
      await new Promise((resolve) => held[0].once('close', resolve));
      assert.equal(held[64].destroyed, false);
    } finally {
      release();
    }
  },
);
