import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  at: number;
  body: { id: string; type: string; ts: number; data: any };
}

/**
 * A webhook receiver on 127.0.0.1: records every POST (in order of arrival) and answers with `status(delivery)`;
 * while `holding`, it records requests but answers them only at `release()`.
 */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  status: (d: Delivery) => number = () => 200;
  holding = false;
  /** The most requests held unanswered at once. */
  maxHeld = 0;
  private readonly held: (() => void)[] = [];
  private waiters: (() => void)[] = [];
  private server?: Server;

  private constructor(public port: number) {}

  static async start(port = 0): Promise<Receiver> {
    const r = new Receiver(port);
    await r.listen();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Listens (again) on the same port. */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const delivery: Delivery = {
          headers: req.headers,
          raw,
          at: Date.now(),
          body: JSON.parse(raw),
        };
        this.deliveries.push(delivery);
        const answer = (r: ServerResponse) => r.writeHead(this.status(delivery)).end();
        if (this.holding) {
          this.held.push(() => answer(res));
          this.maxHeld = Math.max(this.maxHeld, this.held.length);
        } else answer(res);
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Requests held unanswered now. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Answers the oldest request held (and keeps holding). */
  releaseOne(): void {
    this.held.shift()?.();
  }

  /** Answers the requests held so far and stops holding. */
  release(): void {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
  }

  /** Stops listening: deliveries now fail with a refused connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  of(type: string): Delivery[] {
    return this.deliveries.filter((d) => d.body.type === type);
  }

  /** Resolves once `done()` holds for the deliveries so far. */
  async until(done: (all: Delivery[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.deliveries)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const got = this.deliveries.map((d) => d.body.type).join(', ');
        throw new Error(`timed out waiting for ${what}; received: [${got}]`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for one delivery of `type` matching `where`. */
  async next(
    type: string,
    where: (data: any) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Delivery> {
    const find = () => this.of(type).find((d) => where(d.body.data));
    await this.until(() => find() !== undefined, type, timeoutMs);
    return find()!;
  }
}
