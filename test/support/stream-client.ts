import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TestServer } from './server';
import { TestClient, type Frame } from './ws-client';

/** The client transports of contract section 10. */
export type TransportName = 'websocket' | 'sse' | 'stream';
export const TRANSPORTS: TransportName[] = ['websocket', 'sse', 'stream'];

/** What the protocol suites use of a client, whatever carries its frames: TestClient's API. */
export type ProtocolClient = Pick<
  TestClient,
  'frames' | 'send' | 'request' | 'call' | 'next' | 'wait' | 'waitClose' | 'close'
> & { readonly closeCode?: number };

export interface StreamOptions {
  /** Where `POST /stream/send` goes: another instance than the one streaming, to prove no sticky session. */
  sendTo?: string;
  headers?: Record<string, string>;
  /** `GET /sse?channels=…`. */
  channels?: string[];
  /** More of the query string, e.g. `clientPings=1`. */
  query?: string;
}

/** Opens a client over any transport; `sendTo` (SSE and stream) posts its frames to that base URL. */
export async function connectOver(
  transport: TransportName,
  server: TestServer,
  token: string,
  options: StreamOptions = {},
): Promise<ProtocolClient> {
  if (transport === 'websocket') {
    return TestClient.connect(server.wsUrl, token, { headers: options.headers });
  }
  return StreamTestClient.connect(transport, server.url, token, options);
}

/** A refused stream: the HTTP status and body. */
export class StreamRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body}`);
  }
}

/**
 * TestClient's API over `GET /sse` or `POST /stream`: frames are read from the response as it streams, and each
 * frame sent is posted to `POST /stream/send` (of `sendTo`, or the same server), one POST at a time in order.
 * `heartbeats` counts the heartbeat lines; `closeCode` is the close notice's code (1006 when the stream ended
 * without one).
 */
export class StreamTestClient {
  readonly frames: Frame[] = [];
  closeCode?: number;
  closeReason?: string;
  heartbeats = 0;
  session = '';
  /** Statuses of the sends, in order. */
  readonly sendStatuses: number[] = [];
  response!: IncomingMessage;
  /** Milliseconds from the response's headers to the welcome frame (a buffering proxy would hold it back). */
  welcomeDelayMs = 0;
  private nextId = 1;
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private readonly consumed = new Set<Frame>();
  private buffered = '';
  private sending: Promise<unknown> = Promise.resolve();
  private heartbeatWaiters: (() => void)[] = [];
  private resolveClosed!: (code: number) => void;
  private readonly closed = new Promise<number>((resolve) => (this.resolveClosed = resolve));

  private constructor(
    readonly transport: 'sse' | 'stream',
    readonly url: string,
    readonly token: string,
    readonly sendUrl: string,
    readonly req: ClientRequest,
  ) {}

  static async connect(
    transport: 'sse' | 'stream',
    base: string,
    token: string | undefined,
    options: StreamOptions = {},
  ): Promise<StreamTestClient> {
    const params = new URLSearchParams(options.query);
    if (options.channels) params.set('channels', options.channels.join(','));
    const query = params.size > 0 ? `?${params.toString().replace(/%2C/g, ',')}` : '';
    const url = `${base}/${transport === 'sse' ? 'sse' : 'stream'}${query}`;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    if (transport === 'stream') headers['content-type'] = 'application/json';
    const request = url.startsWith('https') ? httpsRequest : httpRequest;
    const req = request(url, {
      method: transport === 'sse' ? 'GET' : 'POST',
      headers,
      rejectUnauthorized: false,
    });
    const client = new StreamTestClient(transport, url, token ?? '', options.sendTo ?? base, req);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.end(transport === 'stream' ? '{}' : undefined);
    });
    client.response = response;
    if (response.statusCode !== 200) {
      let body = '';
      for await (const chunk of response) body += String(chunk);
      throw new StreamRefused(response.statusCode ?? 0, body);
    }
    const headersAt = Date.now();
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => client.onData(chunk));
    response.on('close', () => client.ended());
    req.on('error', () => client.ended());
    const welcome = await client.next('welcome', 10_000);
    client.welcomeDelayMs = Date.now() - headersAt;
    client.session = (welcome.data as { session: string }).session;
    return client;
  }

  /** Posts one frame (an object, or raw text) to the session; sends leave one at a time, in order. */
  send(frame: unknown): void {
    void this.post([frame]);
  }

  /** Posts frames in one request; resolves with the status (in send order). */
  post(frames: unknown[], session = this.session, token = this.token): Promise<number> {
    const done = this.sending.then(() => postSend(this.sendUrl, token, { session, frames }));
    this.sending = done.catch(() => undefined);
    return done.then(({ status }) => {
      this.sendStatuses.push(status);
      return status;
    });
  }

  request(event: string, data?: unknown, timeoutMs = 8000): Promise<Frame> {
    const id = this.nextId++;
    this.send({ event, data, id });
    return this.wait((f) => f.id === id, `reply to ${event}#${id}`, timeoutMs);
  }

  async call(event: string, data?: unknown): Promise<any> {
    const reply = await this.request(event, data);
    if (reply.event === 'error') throw new Error(`${event} failed: ${JSON.stringify(reply.data)}`);
    return reply.data;
  }

  next(event: string, timeoutMs = 8000, where: (f: Frame) => boolean = () => true): Promise<Frame> {
    return this.wait((f) => f.event === event && f.id === undefined && where(f), event, timeoutMs);
  }

  wait(match: (f: Frame) => boolean, what: string, timeoutMs = 8000): Promise<Frame> {
    const seen = this.frames.find((f) => !this.consumed.has(f) && match(f));
    if (seen) {
      this.consumed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.transport})`),
        );
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

  /** Resolves at the next heartbeat line. */
  nextHeartbeat(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no heartbeat')), timeoutMs);
      this.heartbeatWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  waitClose(timeoutMs = 8000): Promise<number> {
    return Promise.race([
      this.closed,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  /** Ends the stream from the client's side (as a closed tab would). */
  close(): Promise<number> {
    this.req.destroy();
    this.response?.destroy();
    this.ended();
    return this.closed;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    const separator = this.transport === 'sse' ? '\n\n' : '\n';
    let at: number;
    while ((at = this.buffered.indexOf(separator)) >= 0) {
      const block = this.buffered.slice(0, at);
      this.buffered = this.buffered.slice(at + separator.length);
      if (this.transport === 'sse') this.onEvent(block);
      else this.onLine(block);
    }
  }

  private onEvent(block: string): void {
    if (block.startsWith(':') || block === '') return this.heartbeat();
    const lines = block.split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const data = lines
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    if (event === 'close') return this.closeNotice(JSON.parse(data) as { code: number });
    this.onFrame(JSON.parse(data) as Frame);
  }

  private onLine(line: string): void {
    if (line === '') return this.heartbeat();
    const parsed = JSON.parse(line) as Frame & { close?: { code: number; reason?: string } };
    if (parsed.close) return this.closeNotice(parsed.close);
    this.onFrame(parsed);
  }

  private heartbeat(): void {
    this.heartbeats++;
    for (const resolve of this.heartbeatWaiters.splice(0)) resolve();
  }

  private closeNotice(close: { code: number; reason?: string }): void {
    this.closeCode = close.code;
    this.closeReason = close.reason;
    this.resolveClosed(close.code);
  }

  private ended(): void {
    this.closeCode ??= 1006;
    this.resolveClosed(this.closeCode);
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

/** `POST /stream/send` with a body (an object is sent as JSON); resolves with the status and body (HTTPS: any cert). */
export function postSend(
  base: string,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const request = base.startsWith('https') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/stream/send`,
      {
        method: 'POST',
        rejectUnauthorized: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
