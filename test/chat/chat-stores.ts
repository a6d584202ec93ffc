/**
 * What the chat e2e files share: each runs once per message store, SQLite (default) and PostgreSQL (behind the
 * postgres gate), against a server of its own. PostgreSQL data outlives a run, so every room and user id carries
 * a random suffix.
 */
import { trackedClients, type TrackedClients } from '../support/clients';
import { range, type Message } from '../support/fixtures';
import { servicesGate } from '../support/services';
import { startServer, type TestServer } from '../support/server';
import type { TestClient } from '../support/ws-client';

const pg = servicesGate('postgres');

export interface Backend {
  name: string;
  env: () => Record<string, string>;
  gate: (name: string, fn: () => void) => void;
}

export const backends: Backend[] = [
  { name: 'SQLite', env: () => ({}), gate: (name, fn) => describe(name, fn) },
  {
    name: 'PostgreSQL',
    env: () => ({ DATABASE_URL: pg.url }),
    gate: (name, fn) => pg.describe(name, fn),
  },
];

// Generous rate limits: several tests fire dozens of requests at once from one connection.
export const BASE_ENV = { RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' };

export const seqs = (messages: Message[]): number[] => messages.map((m) => m.seq);

/** Sends n messages concurrently from one connection; returns the replies' messages sorted by seq. */
export async function sendMany(client: TestClient, room: string, n: number): Promise<Message[]> {
  const replies = await Promise.all(
    range(1, n).map(
      (i) => client.call('chat.send', { room, text: `m${i}` }) as Promise<{ message: Message }>,
    ),
  );
  return replies.map((r) => r.message).sort((a, b) => a.seq - b.seq);
}

export interface ChatStoreContext {
  connect: TrackedClients['connect'];
  /** The environment of the store under test (to start another server on it). */
  env: () => Record<string, string>;
}

/** `describe` the tests once per message store, each block with a server of its own. */
export function describeOnEachStore(title: string, fn: (ctx: ChatStoreContext) => void): void {
  describe.each(backends)(`${title} on $name`, ({ name, env, gate }) => {
    gate(`${name} store`, () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startServer({ ...BASE_ENV, ...env() });
      });
      afterAll(async () => {
        await server?.close();
      });
      const { connect } = trackedClients(() => server);
      fn({ connect, env });
    });
  });
}
