import WebSocket from 'ws';

export interface Frame {
  event: string;
  id?: string | number;
  data?: any;
}

/**
 * A protocol-aware test client: `request()` resolves with the reply (or the error frame) carrying its id,
 * `next()` waits for the next push of an event. Everything awaits events; nothing sleeps.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  closeCode?: number;
  private nextId = 1;
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private readonly closed: Promise<number>;
  private consumed = new Set<Frame>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => this.onFrame(JSON.parse(raw.toString('utf8')) as Frame));
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  /** Opens a connection and waits for the welcome push. */
  static async connect(
    url: string,
    token?: string,
    options: WebSocket.ClientOptions = {},
  ): Promise<TestClient> {
    const headers = { ...(options.headers ?? {}) } as Record<string, string>;
    if (token) headers.authorization = `Bearer ${token}`;
    const ws = new WebSocket(url, { ...options, headers });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    await client.next('welcome');
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends `{event, data, id}` and resolves with the frame that answers that id (reply or error). */
  request(event: string, data?: unknown, timeoutMs = 5000): Promise<Frame> {
    const id = this.nextId++;
    this.send({ event, data, id });
    return this.wait((f) => f.id === id, `reply to ${event}#${id}`, timeoutMs);
  }

  /** Like request() but fails unless the reply is a success; returns its data. */
  async call(event: string, data?: unknown): Promise<any> {
    const reply = await this.request(event, data);
    if (reply.event === 'error') throw new Error(`${event} failed: ${JSON.stringify(reply.data)}`);
    return reply.data;
  }

  /** Resolves with the next not yet consumed push (no id) of this event. */
  next(event: string, timeoutMs = 5000, where: (f: Frame) => boolean = () => true): Promise<Frame> {
    return this.wait((f) => f.event === event && f.id === undefined && where(f), event, timeoutMs);
  }

  wait(match: (f: Frame) => boolean, what: string, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find((f) => !this.consumed.has(f) && match(f));
    if (seen) {
      this.consumed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves with the close code. */
  waitClose(timeoutMs = 5000): Promise<number> {
    return Promise.race([
      this.closed,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  close(): Promise<number> {
    if (this.ws.readyState === WebSocket.CLOSED) return this.closed;
    this.ws.close();
    return this.closed;
  }

  private onFrame(frame: Frame): void {
    this.frames.push(frame);
    const index = this.waiters.findIndex((w) => w.match(frame));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      this.consumed.add(frame);
      waiter.resolve(frame);
    }
  }
}

/** Attempts a handshake and resolves with the HTTP status of the refusal (or 101 when it was accepted). */
export function handshakeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => reject(err));
  });
}
