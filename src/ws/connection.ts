import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/principal';

/**
 * Everything the server keeps about one open socket. Handlers receive it through `@Conn()`.
 * Fields are public and plain on purpose: this object is touched on every frame, so no getters or maps where a
 * field will do.
 */
export class Connection {
  /** Rooms this connection has joined: a shared empty set until the first join (see {@link joinedRooms}). */
  rooms: ReadonlySet<string> = NO_ROOMS;
  /** The tail of this connection's queued room operations (RoomService.serialize); null when none is queued. */
  roomOps: Promise<void> | null = null;
  /** Channels this connection is subscribed to. */
  readonly channels = new Set<string>();
  /** Those of them a subscription token granted, each ending at its token's `exp`; created at the first. */
  tokenChannels: Map<string, TokenGrant> | null = null;

  /** Set by any inbound traffic or pong; cleared by each heartbeat sweep. */
  alive = true;
  closed = false;
  /** Presence status chosen by the user on this connection. */
  status: 'online' | 'away' | 'busy' = 'online';

  // Token bucket for client messages (see RateLimiter).
  tokens: number;
  lastRefill: number;
  refusedCount = 0;
  refusedWindowStart = 0;

  /** Requests being handled; a close for flooding waits for them to be answered. */
  inflight = 0;
  /** Set when the connection must close once its in-flight requests are answered. */
  closeWhenIdle?: { code: number; reason: string };
  /** A message-carrying request (protocol/reply-budget.ts) is running; the next ones wait in `waiting`. */
  carrying = false;
  /** Message-carrying requests waiting for the running one, oldest first; null while none wait. */
  waiting: WaitingRequest[] | null = null;

  /** Frames queued in this event-loop turn, written together by the OutboundWriter. */
  pending: Buffer[] | null = null;
  /** While frames are queued: the socket's buffered bytes when the first was queued, plus the queued frames. */
  pendingBytes = 0;

  /** The raw TCP socket under the WebSocket; pre-framed pushes are written here directly. */
  readonly socket: Socket;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    public principal: Principal,
    burst: number,
  ) {
    this.tokens = burst;
    this.lastRefill = Date.now();
    // `ws` keeps the TCP socket in a private field and offers no accessor; every frame we build is unmasked and
    // permessage-deflate is off, so writing finished frames here is exactly what ws's own Sender would do.
    this.socket = (ws as unknown as { _socket: Socket })._socket;
  }

  /** The set to add a room to, created at the first join (an idle connection costs no Set). */
  joinedRooms(): Set<string> {
    if (this.rooms === NO_ROOMS) this.rooms = new Set<string>();
    return this.rooms as Set<string>;
  }

  get userId(): string {
    return this.principal.userId;
  }

  subscriptionCount(): number {
    return this.rooms.size + this.channels.size;
  }
}

/** A channel subscription granted by a subscription token: it ends at `expiresAt` unless `channel.refresh` moves it. */
export interface TokenGrant {
  readonly conn: Connection;
  readonly channel: string;
  expiresAt: number;
}

/** A request held back by the one-at-a-time rule of message-carrying requests (see FrameRouter). */
export interface WaitingRequest {
  event: string;
  id: string | number | undefined;
  data: unknown;
  /** Its rate-limit tokens (reply-budget.ts): reads cost more than joins and subscribes, and wait in fewer. */
  cost: number;
}

const NO_ROOMS: ReadonlySet<string> = new Set<string>();

const CONNECTION = Symbol('hubbub.connection');

export function attachConnection(ws: WebSocket, conn: Connection): void {
  (ws as unknown as Record<symbol, Connection>)[CONNECTION] = conn;
}

export function connectionOf(ws: unknown): Connection | undefined {
  return (ws as Record<symbol, Connection | undefined> | undefined)?.[CONNECTION];
}
