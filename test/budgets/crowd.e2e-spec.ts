/**
 * Issue 19, point 7: a crowd of 200 users, each doing the most its limits allow (a full rate-limit burst of joins,
 * publishes of nearly MAX_PAYLOAD_BYTES, subscribes with `since` whose replays fill HISTORY_REPLY_MAX_BYTES, history
 * reads), against a child server with a small heap (--max-old-space-size) and a low OVERLOAD_HEAP_RATIO: it does not
 * reach its heap limit (no OOM exit); it refuses new work (503, `overloaded`) while keeping what it holds (a held
 * connection's ping is answered), and accepts again by itself once the crowd has left and its publications expired.
 * The server runs with --expose-gc, so that its overload detector forces GCs through `global.gc` and Node prints no
 * ExperimentalWarning (src/ws/overload.ts).
 */
import WebSocket from 'ws';
import {
  buildServerOnce,
  removeBuild,
  spawnServer,
  type ChildServer,
} from '../support/child-server';
import { rid } from '../support/fixtures';
import { overloadedGaugeBecomes } from '../support/overload-gauge';
import { signToken } from '../support/tokens';
import { handshakeStatus, TestClient } from '../support/ws-client';

const USERS = 200;
/** A publication's data: with its envelope just under MAX_PAYLOAD_BYTES (65536). */
const PAYLOAD = 'c'.repeat(60_000);

interface Frame {
  event: string;
  id?: number;
  data?: any;
}

/**
 * A crowd member's socket: one request at a time, answers matched by id, pushes read and dropped (TestClient keeps
 * every frame, which 200 sockets of 60 KB pushes would make the test's own memory problem).
 */
class CrowdSocket {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(f: Frame): void; reject(e: Error): void }>();
  closeCode?: number;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString('utf8')) as Frame;
      if (frame.id !== undefined) this.pending.get(frame.id)?.resolve(frame);
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`closed ${code}`));
    });
  }

  static open(url: string, token: string): Promise<CrowdSocket> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('message', () => resolve(new CrowdSocket(ws))); // the welcome push
    });
  }

  request(event: string, data: unknown): Promise<Frame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (f) => {
          this.pending.delete(id);
          resolve(f);
        },
        reject,
      });
      this.ws.send(JSON.stringify({ event, data, id }));
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/**
 * What one user does: a full burst (RATE_LIMIT_BURST = 40 tokens) of the requests that make a server hold or
 * read the most: 3 joins, 10 publishes of 60 KB into its own channel, a subscribe to its neighbour's channel then
 * 8 unsubscribe/subscribe-with-`since: 0` pairs (each replay up to HISTORY_REPLY_MAX_BYTES), 2 history reads (5
 * tokens each). Returns the code of every answer (`ok` for a success); calls `onOverloaded` at each `overloaded`.
 */
async function crowdMember(
  socket: CrowdSocket,
  me: number,
  run: string,
  onOverloaded: () => void,
): Promise<string[]> {
  const codes: string[] = [];
  const ask = async (event: string, data: unknown): Promise<Frame> => {
    const reply = await socket.request(event, data);
    const code = reply.event === 'error' ? (reply.data as { code: string }).code : 'ok';
    if (code === 'overloaded') onOverloaded();
    codes.push(code);
    return reply;
  };
  const room = (k: number): string => `crowd-${run}-r-${me}-${k}`;
  const channel = (user: number): string => `crowd-${run}-p-${user % USERS}`;
  for (let k = 0; k < 3; k++) await ask('chat.join', { room: room(k) });
  for (let k = 0; k < 10; k++)
    await ask('channel.publish', { channel: channel(me), data: PAYLOAD });
  const first = await ask('channel.subscribe', { channel: channel(me + 1) });
  const epoch = first.event === 'error' ? undefined : (first.data as { epoch: string }).epoch;
  for (let k = 0; k < 8; k++) {
    await ask('channel.unsubscribe', { channel: channel(me + 1) });
    await ask('channel.subscribe', { channel: channel(me + 1), ...(epoch && { since: 0, epoch }) });
  }
  for (let k = 0; k < 2; k++) await ask('chat.history', { room: room(0) });
  return codes;
}

describe('a crowd against a small heap', () => {
  let server: ChildServer;
  let held: TestClient | undefined;
  const crowd: CrowdSocket[] = [];
  beforeAll(async () => {
    await buildServerOnce();
    server = await spawnServer({
      NODE_OPTIONS: '--max-old-space-size=96 --expose-gc',
      // heap_size_limit is about 288 MB with a 96 MB old space: 0.17 of it is about 49 MB, some 15 MB over the idle
      // server's heap; the default channel window budget (64 MiB) is over that line, but under the heap limit.
      OVERLOAD_HEAP_RATIO: '0.17',
      CHANNEL_HISTORY_TTL_MS: '15000',
      LOG_LEVEL: 'warn',
    });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(crowd.map((s) => s.close()));
    await held?.close();
    server.kill('SIGKILL');
    await server.waitForExit().catch(() => undefined);
    removeBuild();
  });

  it('refuses new work, serves what it holds, stays alive, and accepts again after the crowd leaves', async () => {
    held = await TestClient.connect(server.wsUrl, signToken('holder'));
    const heldRoom = `held-${rid()}`;
    await held.call('chat.join', { room: heldRoom });

    const run = rid();
    for (let i = 0; i < USERS; i += 20) {
      const batch = Array.from({ length: 20 }, (_, k) =>
        CrowdSocket.open(
          server.wsUrl,
          signToken(`crowd-${run}-${i + k}`, { publish: ['crowd-*'] }),
        ),
      );
      crowd.push(...(await Promise.all(batch)));
    }
    // While the crowd runs, at its first `overloaded` answer: the held connection is still served.
    let overloaded!: () => void;
    const firstRefusal = new Promise<void>((resolve) => (overloaded = resolve));
    const heldServed = firstRefusal.then(async () => (await held!.request('ping')).event);
    const answers = Promise.all(crowd.map((s, i) => crowdMember(s, i, run, overloaded)));
    const codes = (await answers).flat();

    // Every request (32 a user) was answered, with a success or `overloaded` (or `not_joined`, a history read of a
    // room whose join was refused): nothing rate-limited, no socket closed. Some were refused: 200 users' windows
    // of publications (120 MB) are more than the line, and more than the heap.
    expect(codes).toHaveLength(USERS * 32);
    const allowed = ['ok', 'overloaded', 'not_joined'];
    expect([...new Set(codes)].filter((c) => !allowed.includes(c))).toEqual([]);
    expect(codes.filter((c) => c === 'overloaded').length).toBeGreaterThan(0);
    expect(crowd.filter((s) => s.closeCode !== undefined)).toEqual([]);
    expect(await heldServed).toBe('pong');
    expect(server.proc.exitCode).toBeNull();

    // The crowd leaves; its publications expire (15 s) and the instance accepts again by itself.
    await Promise.all(crowd.splice(0).map((s) => s.close()));
    await overloadedGaugeBecomes(server, 0, 45_000);
    expect(
      await handshakeStatus(server.wsUrl, { authorization: `Bearer ${signToken('later')}` }),
    ).toBe(101);
    expect((await held.call('chat.join', { room: `after-${rid()}` })).messages).toEqual([]);

    // Alive all along, never near its heap limit, and no ExperimentalWarning (GCs forced through global.gc).
    expect(server.proc.exitCode).toBeNull();
    expect(server.stderr.join('\n')).not.toMatch(/heap out of memory|ExperimentalWarning/);
  }, 150_000);
});
