import type { Message } from './fixtures';
import type { TestServer } from './server';
import { signToken } from './tokens';
import { TestClient, type Frame } from './ws-client';

export interface TrackedClients {
  /** Connects as `sub` (with these token claims) to `target`, by default the block's server. */
  connect(sub: string, claims?: Record<string, unknown>, target?: TestServer): Promise<TestClient>;
  /** Closes every client connected so far (afterEach does it too). */
  closeAll(): Promise<void>;
}

/**
 * Call inside a describe block: clients opened with `connect()` are closed after each test. `server` is read at
 * connect time, so it may be assigned in a beforeAll.
 */
export function trackedClients(server: () => TestServer): TrackedClients {
  const clients: TestClient[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  };
  afterEach(closeAll);
  return {
    async connect(sub, claims = {}, target = server()) {
      const client = await TestClient.connect(target.wsUrl, await target.token(sub, claims));
      clients.push(client);
      return client;
    },
    closeAll,
  };
}

/**
 * Proves a push did NOT arrive: pings after the action and checks that no matching push came in between `mark`
 * (frames.length taken before the action) and the pong. The server writes pushes caused by an earlier request
 * before it answers a later one on the same socket, so the pong is a barrier.
 */
export async function expectNoPush(
  client: TestClient,
  mark: number,
  event: string,
  where: (f: Frame) => boolean = () => true,
): Promise<void> {
  const pong = await client.request('ping');
  expect(pong.event).toBe('pong');
  const unexpected = client.frames
    .slice(mark, client.frames.indexOf(pong))
    .filter((f) => f.event === event && f.id === undefined && where(f));
  expect(unexpected).toEqual([]);
}

/** Every message of a room, paging through chat.history with `after`. */
export async function fullHistory(client: TestClient, room: string): Promise<Message[]> {
  const all: Message[] = [];
  let after = 0;
  for (;;) {
    const page = (await client.call('chat.history', { room, after, limit: 100 }))
      .messages as Message[];
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1].seq;
  }
}

/** Connects as `sub` (a token signed with the test secret) to `wsUrl`, joins `room`; `into` collects it for closing. */
export async function connectAndJoin(
  wsUrl: string,
  sub: string,
  room: string,
  into: TestClient[],
): Promise<TestClient> {
  const client = await TestClient.connect(wsUrl, signToken(sub));
  into.push(client);
  await client.call('chat.join', { room });
  return client;
}

/**
 * Resolves at the client's `count`-th ping from the server. The heartbeat pings on every sweep, so the n-th ping
 * proves that n - 1 sweeps found the client alive: an absence (no close) proved by a later event.
 */
export function serverPings(client: TestClient, count: number, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      client.ws.off('ping', onPing);
      reject(new Error(`only ${seen} of ${count} server pings within ${timeoutMs} ms`));
    }, timeoutMs);
    const onPing = (): void => {
      if (++seen < count) return;
      clearTimeout(timer);
      client.ws.off('ping', onPing);
      resolve();
    };
    client.ws.on('ping', onPing);
  });
}
