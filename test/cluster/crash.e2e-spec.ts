/**
 * Chat durability across a crash (docs/protocol.md, delivery guarantees: "an acknowledged message is never lost, across restarts and
 * crashes (kill -9 after the reply)"). The server runs as a child process; a client fires 500 chat.send at once,
 * the process is killed with SIGKILL once about 100 replies came back, and a fresh process on the same store must
 * hold every acknowledged message with the seq it was acknowledged with, in a gapless 1..n sequence.
 * Once against SQLite (a file in a temp dir), once against PostgreSQL behind the gate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildServerOnce,
  removeBuild,
  spawnServer,
  type ChildEnv,
  type ChildServer,
} from '../support/child-server';
import { fullHistory } from '../support/clients';
import { rid, type Message } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { TestClient, type Frame } from '../support/ws-client';

const pg = servicesGate('postgres');

const TOTAL = 500;
const KILL_AFTER = 100;

// Generous rate limits: 500 frames arrive at once on one connection.
const BASE_ENV: ChildEnv = {
  RATE_LIMIT_PER_SEC: '100000',
  RATE_LIMIT_BURST: '100000',
  LOG_LEVEL: 'error',
};

function crashSuite(storeEnv: () => ChildEnv): void {
  let child: ChildServer | undefined;
  let client: TestClient | undefined;

  afterEach(async () => {
    await client?.close();
    child?.kill('SIGKILL');
    await child?.waitForExit().catch(() => undefined);
    client = undefined;
    child = undefined;
  });

  it(`keeps every acknowledged message, with its seq, after kill -9 during ${TOTAL} concurrent sends`, async () => {
    const env = { ...BASE_ENV, ...storeEnv() };
    const room = `crash-${rid()}`;
    const user = `writer-${rid()}`;

    child = await spawnServer(env);
    client = await TestClient.connect(child.wsUrl, signToken(user));
    await client.call('chat.join', { room });

    // Fire everything at once with raw frames; collect replies until the socket dies.
    const acked = new Map<string, Message>(); // clientMsgId -> acknowledged message
    const errors: Frame[] = [];
    const victim = child;
    const killed = new Promise<number>((resolve) => {
      client!.ws.on('message', (raw) => {
        const frame = JSON.parse((raw as Buffer).toString('utf8')) as Frame;
        if (typeof frame.id !== 'string' || !frame.id.startsWith('s-')) return;
        if (frame.event === 'error') errors.push(frame);
        else
          acked.set(
            (frame.data as { message: Message }).message.clientMsgId!,
            frame.data.message as Message,
          );
        if (acked.size === KILL_AFTER) victim.kill('SIGKILL');
      });
      client!.ws.once('close', () => resolve(acked.size));
    });
    for (let i = 1; i <= TOTAL; i++) {
      client.send({
        event: 'chat.send',
        id: `s-${i}`,
        data: { room, text: `text ${i}`, clientMsgId: `c-${i}` },
      });
    }
    await killed;
    expect(await child.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(errors).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER);
    await client.close();

    // Same store, new process.
    child = await spawnServer(env);
    client = await TestClient.connect(child.wsUrl, signToken(user));
    const joined = await client.call('chat.join', { room });
    const history = await fullHistory(client, room);
    const n = history.length;

    // seq runs 1..n with no gap, and the room's seq agrees.
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(joined.seq).toBe(n);
    expect(n).toBeGreaterThanOrEqual(acked.size);
    expect(n).toBeLessThanOrEqual(TOTAL);

    // Every acknowledged message is there, identical (same id and seq).
    const byClientId = new Map(history.map((m) => [m.clientMsgId!, m]));
    const lost = [...acked.values()].filter((m) => {
      const stored = byClientId.get(m.clientMsgId!);
      return !stored || stored.id !== m.id || stored.seq !== m.seq || stored.text !== m.text;
    });
    expect(lost).toEqual([]);
    // Nothing was stored twice.
    expect(byClientId.size).toBe(n);

    // A client retrying every send with its clientMsgId ends with exactly one message each, seqs 1..TOTAL.
    const retried = await Promise.all(
      Array.from({ length: TOTAL }, (_, k) =>
        client!.call('chat.send', { room, text: `text ${k + 1}`, clientMsgId: `c-${k + 1}` }),
      ),
    );
    for (const { message } of retried as { message: Message }[]) {
      const before = byClientId.get(message.clientMsgId!);
      if (before) expect(message).toEqual(before);
    }
    const final = await fullHistory(client, room);
    expect(final.map((m) => m.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(new Set(final.map((m) => m.clientMsgId)).size).toBe(TOTAL);
  }, 60_000);
}

describe('crash durability', () => {
  beforeAll(async () => {
    await buildServerOnce();
  }, 120_000);
  afterAll(() => {
    removeBuild();
  });

  describe('SQLite', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'hubbub-crash-'));
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    crashSuite(() => ({ SQLITE_PATH: join(dir, 'chat.db') }));
  });

  pg.describe('PostgreSQL', () => {
    crashSuite(() => ({ DATABASE_URL: pg.url }));
  });
});
