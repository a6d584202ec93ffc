import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';

/** How a stream session writes frames: Server-Sent Events (`GET /sse`) or newline-delimited JSON (`POST /stream`). */
export type StreamFormat = 'sse' | 'stream';

const SSE_DATA = Buffer.from('data: ');
const SSE_END = Buffer.from('\n\n');
const NL = Buffer.from('\n');
/** Heartbeats: an SSE comment line, or a blank line between JSON lines. */
const HEARTBEAT: Record<StreamFormat, Buffer> = {
  sse: Buffer.from(':\n\n'),
  stream: Buffer.from('\n'),
};

/** The socket states of `ws`, which a team's gateway may read from the client it is handed. */
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The StreamSocket a response belongs to (module-level listeners: no closure per session). */
const SESSION = Symbol('hubbub.streamSocket');
type Tagged = ServerResponse & { [SESSION]?: StreamSocket };

/**
 * What the OutboundWriter writes a stream session's frames to, in place of a TCP socket. The writer hands it finished
 * WebSocket frames (the same Buffer it writes to every socket: a push is framed once); this sink writes each
 * frame's payload, a subarray without a copy, between the format's delimiters. Frames written between `cork` and
 * `uncork` (one event-loop turn of one session, OutboundWriter.flush) leave as ONE buffer, one HTTP chunk.
 */
export class StreamSink {
  private corked: Buffer[] | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly format: StreamFormat,
  ) {}

  /** Bytes written but not yet taken by the kernel: the slow-consumer bound reads it like a socket's. */
  get writableLength(): number {
    return this.res.writableLength;
  }

  get destroyed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  write(frame: Buffer): boolean {
    const payload = payloadOf(frame);
    if (this.corked) {
      if (this.format === 'sse') this.corked.push(SSE_DATA, payload, SSE_END);
      else this.corked.push(payload, NL);
      return true;
    }
    const parts = this.format === 'sse' ? [SSE_DATA, payload, SSE_END] : [payload, NL];
    return this.res.write(Buffer.concat(parts));
  }

  cork(): void {
    this.corked ??= [];
  }

  uncork(): void {
    const parts = this.corked;
    this.corked = null;
    if (parts && parts.length > 0 && !this.destroyed) this.res.write(Buffer.concat(parts));
  }

  /** A heartbeat; true when it went straight to the kernel (the peer reads what it is sent). */
  heartbeat(): boolean {
    if (this.destroyed) return false;
    return this.res.write(HEARTBEAT[this.format]);
  }

  /** The transport's close notice: what a WebSocket close frame says, as the stream's last line. */
  end(code: number, reason: string): void {
    if (this.destroyed) return;
    const notice = JSON.stringify({ code, reason });
    this.res.end(
      this.format === 'sse' ? `event: close\ndata: ${notice}\n\n` : `{"close":${notice}}\n`,
    );
  }
}

/** The payload of a finished, unmasked WebSocket frame (frames.ts: 2-, 4- or 10-byte header), without a copy. */
function payloadOf(frame: Buffer): Buffer {
  const length = frame[1] & 0x7f;
  return frame.subarray(length < 126 ? 2 : length === 126 ? 4 : 10);
}

/**
 * A stream session seen as the WebSocket of its Connection: the Connection, the FrameRouter, the heartbeat, the
 * slow-consumer policy, shutdown and every gateway use what they use on a socket (`close`, `terminate`, `ping`,
 * the `message`, `pong` and `close` events), so every feature works on a stream unchanged. The client's frames
 * arrive through `POST /stream/send` (any instance) and are emitted here as `message`s.
 *
 * - `close(code, reason)`: the close notice (`event: close` on SSE, `{"close": …}` on a stream), then the end of
 *   the response; `close` is emitted when the response is over.
 * - `ping()`: a heartbeat line; `pong` follows once the kernel took it (at once, or when the response drains), so a
 *   session whose peer reads nothing is found dead by the heartbeat sweep, like a socket that sends no pong. A
 *   session opened with `clientPings` (the SDK's) gets no such `pong`: it proves itself alive by sending frames
 *   (a `ping` at least every heartbeat), so a client that vanished without a FIN is dropped within two heartbeats.
 * - `terminate()`: the response is destroyed.
 */
export class StreamSocket extends EventEmitter {
  /** Read by Connection as the socket the OutboundWriter writes to. */
  readonly _socket: StreamSink;
  readyState = OPEN;
  private awaitingDrain = false;

  constructor(
    readonly session: string,
    readonly format: StreamFormat,
    private readonly res: ServerResponse,
    private readonly clientPings = false,
  ) {
    super();
    this._socket = new StreamSink(res, format);
    (res as Tagged)[SESSION] = this;
    res.once('close', responseClosed);
  }

  /** This session as the WebSocket its Connection expects. */
  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }

  /** Frames the client sent through `POST /stream/send`, in order, as text messages. */
  receive(frames: readonly Buffer[]): void {
    for (const frame of frames) {
      if (this.readyState !== OPEN) return;
      this.emit('message', frame, false);
    }
  }

  /** A heartbeat line only (StreamSessions' timer, between the heartbeat sweep's pings). */
  heartbeat(): void {
    if (this.readyState === OPEN) this._socket.heartbeat();
  }

  ping(): void {
    if (this.readyState !== OPEN) return;
    if (this._socket.heartbeat()) {
      if (!this.clientPings) this.emit('pong');
    } else if (!this.awaitingDrain) {
      this.awaitingDrain = true;
      this.res.once('drain', responseDrained);
    }
  }

  /** For a team's gateway that writes to its client itself: one text frame. */
  send(data: string | Buffer): void {
    if (this.readyState !== OPEN) return;
    const text = typeof data === 'string' ? data : data.toString('utf8');
    const header = Buffer.from([0x81, 0]); // a 2-byte header is all payloadOf reads for a short length
    this._socket.write(Buffer.concat([header, Buffer.from(text)]));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this._socket.end(code, reason);
  }

  terminate(): void {
    this.readyState = CLOSING;
    this.res.destroy();
  }

  /** @internal */
  closedResponse(): void {
    this.readyState = CLOSED;
    this.emit('close');
  }

  /** @internal */
  drained(): void {
    this.awaitingDrain = false;
    if (this.readyState === OPEN && !this.clientPings) this.emit('pong');
  }
}

function responseClosed(this: Tagged): void {
  this[SESSION]?.closedResponse();
}

function responseDrained(this: Tagged): void {
  this[SESSION]?.drained();
}
