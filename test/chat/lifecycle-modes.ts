/**
 * The modes the chat-lifecycle e2e files run in: SQLite, PostgreSQL, and two instances on PostgreSQL and Redis (the
 * second user of each test connects to the other instance, so every push crosses instances). Each mode has a webhook
 * receiver and the server API on; PostgreSQL modes work in a schema of their own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { pgQuery } from '../support/pg-query';
import { servicesGate } from '../support/services';
import { startServer, type TestServer } from '../support/server';
import { Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';
import { BASE_ENV } from './chat-stores';

export const API_KEY = 'lifecycle-key';

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
// Whichever service is missing decides: its gate skips the block, or fails it under REQUIRE_SERVICES=1.
const clusterGate = redis.available ? postgres : redis;

export interface LifecycleContext {
  /** Connects as `sub` to the first instance (`other`: to the second one, the same in single-instance modes). */
  connect(sub: string, claims?: Record<string, unknown>, other?: boolean): Promise<TestClient>;
  /** The first instance. */
  server(): TestServer;
  /** The second instance (the first one in single-instance modes). */
  other(): TestServer;
  receiver(): Receiver;
}

interface Mode {
  name: string;
  gate: (name: string, fn: () => void) => void;
  instances: number;
  postgres: boolean;
}

const MODES: Mode[] = [
  { name: 'SQLite', gate: (n, fn) => describe(n, fn), instances: 1, postgres: false },
  { name: 'PostgreSQL', gate: (n, fn) => postgres.describe(n, fn), instances: 1, postgres: true },
  {
    name: 'PostgreSQL with two instances and Redis',
    gate: (n, fn) => clusterGate.describe(n, fn),
    instances: 2,
    postgres: true,
  },
];

/** `describe` the tests once per mode, each with servers, clients and a webhook receiver of its own. */
export function describeLifecycle(title: string, fn: (ctx: LifecycleContext) => void): void {
  describe.each(MODES)(`${title} on $name`, (mode) => {
    mode.gate(mode.name, () => {
      const servers: TestServer[] = [];
      const clients: TestClient[] = [];
      let receiver: Receiver;
      const schema = `hubbub_lifecycle_${randomBytes(4).toString('hex')}`;
      beforeAll(async () => {
        receiver = await Receiver.start();
        const env: Record<string, string> = {
          ...BASE_ENV,
          API_KEY,
          WEBHOOK_URL: receiver.url,
          WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
        };
        if (mode.postgres) {
          await pgQuery(postgres.url, `CREATE SCHEMA "${schema}"`);
          const url = new URL(postgres.url);
          url.searchParams.set('options', `-c search_path=${schema}`);
          env.DATABASE_URL = url.toString();
        }
        if (mode.instances > 1) env.REDIS_URL = redis.url;
        for (let i = 0; i < mode.instances; i++) {
          servers.push(await startServer({ ...env, NODE_ID: `${schema}-${i}` }));
        }
      }, 60_000);
      afterEach(async () => {
        await Promise.all(clients.splice(0).map((c) => c.close()));
      });
      afterAll(async () => {
        for (const s of servers) await s.close();
        await receiver?.stop();
        if (mode.postgres) await pgQuery(postgres.url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }, 30_000);
      fn({
        server: () => servers[0],
        other: () => servers[servers.length - 1],
        receiver: () => receiver,
        async connect(sub, claims = {}, other = false) {
          const target = other ? servers[servers.length - 1] : servers[0];
          const client = await TestClient.connect(target.wsUrl, await target.token(sub, claims));
          clients.push(client);
          return client;
        },
      });
    });
  });
}
