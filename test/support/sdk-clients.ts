import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, type TestServer } from './server';

/**
 * The client SDK (client/hubbub-client.js, a plain ES module) loaded as the browser loads it: jest runs with
 * --experimental-vm-modules, so a dynamic import() works. Types come from its .d.ts files.
 */
export type Sdk = typeof import('../../client/hubbub-client.js');
export type SdkClient = InstanceType<Sdk['HubbubClient']>;

export function loadSdk(): Promise<Sdk> {
  return import(
    pathToFileURL(join(__dirname, '../../client/hubbub-client.js')).href
  ) as Promise<Sdk>;
}

/** Resolves with the next `event` the client emits that matches `where`; rejects after `timeoutMs`. */
export function nextEvent<T = any>(
  client: SdkClient,
  event: string,
  where: (data: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, handler);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (data: T): void => {
      if (!where(data)) return;
      clearTimeout(timer);
      client.off(event, handler);
      resolve(data);
    };
    client.on(event, handler);
  });
}

/** Connected SDK clients of one server, closed together. */
export class SdkClients {
  private readonly open: SdkClient[] = [];

  constructor(private readonly loaded: () => { sdk: Sdk; server: TestServer }) {}

  get sdk(): Sdk {
    return this.loaded().sdk;
  }

  private server(): TestServer {
    return this.loaded().server;
  }

  /** A connected client for `userId` (name: the id capitalized), with extra token claims such as `roles`. */
  async connect(userId: string, claims: Record<string, unknown> = {}): Promise<SdkClient> {
    const name = userId[0].toUpperCase() + userId.slice(1);
    const token = await this.server().token(userId, { name, ...claims });
    const client = new this.sdk.HubbubClient(this.server().wsUrl, { token, reconnect: false });
    this.open.push(client);
    await client.connect();
    return client;
  }

  closeAll(): void {
    for (const client of this.open.splice(0)) client.close();
  }
}

/**
 * The clients of a suite that runs the SDK against a server of its own: registers the hooks that load the SDK and
 * start the server before all tests, close the clients after each, and stop the server after all.
 */
export function sdkSuite(): SdkClients {
  const state = {} as { sdk: Sdk; server: TestServer };
  const clients = new SdkClients(() => state);
  beforeAll(async () => {
    state.sdk = await loadSdk();
    state.server = await startServer();
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await state.server?.close();
  });
  return clients;
}

/** The rejection of `promise` (a HubbubError for refused requests); fails when it resolves. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: string; details?: any }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; details?: any };
  }
  throw new Error('expected a refusal, the request succeeded');
}
