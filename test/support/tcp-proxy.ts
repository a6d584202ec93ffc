import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';

/**
 * A TCP proxy in the test process, to cut one instance off from a backend (Redis, PostgreSQL) while the others
 * keep it: `cut()` closes every connection and refuses new ones, `hold()` keeps them open but forwards nothing
 * (a silent partition), `restore()` forwards again (what was held goes through).
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private state: 'open' | 'cut' | 'held' = 'open';

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const accepted: { proxy?: TcpProxy } = {};
    const server = createServer((client) => accepted.proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    accepted.proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return accepted.proxy;
  }

  /** Closes every connection and refuses new ones until restore(). */
  cut(): void {
    this.state = 'cut';
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Forwards nothing either way (connections stay open) until restore(). */
  hold(): void {
    this.state = 'held';
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  restore(): void {
    this.state = 'open';
    for (const [a, b] of this.pairs) {
      a.resume();
      b.resume();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.state === 'cut') {
      client.destroy();
      return;
    }
    const upstream = createConnection(port, host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.state === 'held') {
      client.pause();
      upstream.pause();
    }
  }
}
