import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { loggableError } from '../common/log-error';
import type { HubbubEventMap } from '../events/event-map';
import { EventPriority, OnEvent } from '../events/on-event';
import { PushService } from '../fanout/push.service';
import { ConnectionLifecycle } from '../ws/connection-lifecycle';
import { HandshakeService } from '../ws/handshake.service';
import { newSessionId, nodeOfSession, StreamSessionDirectory } from './stream-session-directory';
import { StreamSocket, type StreamFormat } from './stream-socket';

const CONTENT_TYPE: Record<StreamFormat, string> = {
  sse: 'text/event-stream; charset=utf-8',
  stream: 'application/x-ndjson; charset=utf-8',
};

/**
 * The stream sessions of this instance (`GET /sse`, `POST /stream`): each one a Connection like a socket's
 * (ConnectionLifecycle opens and closes it: quota, presence, rooms, `welcome`), written through the same
 * OutboundWriter, and fed with the frames the client posts to `POST /stream/send` on any instance.
 *
 * A send is checked where it arrives (the session exists and is the caller's: StreamSessionDirectory), then
 * travels as the cluster command `command.stream.send` through the broker, also when this instance holds the
 * session: the broker keeps the order in which instances published, so a client whose sends a load balancer
 * spreads over several instances has its frames handled in the order it sent them.
 */
@Injectable()
export class StreamSessions implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('StreamSessions');
  /** Open sessions of this instance: session id → its socket and user. */
  private readonly local = new Map<string, { socket: StreamSocket; userId: string }>();
  private readonly onClose: (this: StreamSocket) => void;
  private heartbeats?: NodeJS.Timeout;

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly directory: StreamSessionDirectory,
    private readonly push: PushService,
    private readonly handshake: HandshakeService,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- one listener for every session, `this` = socket
    const sessions = this;
    this.onClose = function (this: StreamSocket) {
      sessions.closed(this);
    };
  }

  get size(): number {
    return this.local.size;
  }

  /**
   * Heartbeat lines every half HEARTBEAT_INTERVAL_MS, besides the heartbeat sweep's pings (every full one): so
   * a stream carries one at least every HEARTBEAT_INTERVAL_MS whatever the timers' drift, and proxies that cut
   * idle responses see traffic. One timer for every session.
   */
  onApplicationBootstrap(): void {
    this.heartbeats = setInterval(() => {
      for (const { socket } of this.local.values()) socket.heartbeat();
    }, this.config.heartbeatIntervalMs / 2);
    this.heartbeats.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeats);
  }

  /**
   * Opens a session on the response (the principal holds a quota slot, taken by the handshake; it is given back
   * here when no session comes of it; `clientPings`: the client sends a frame at least every heartbeat, and is
   * dropped when it stops, see StreamSocket): registered in the directory first, so that a send following `welcome`
   * finds it on every instance; then the stream starts and the session is subscribed to `channels` at once (each
   * as a `channel.subscribe` frame: the same checks, and an error frame for a refused one). Resolves false when
   * the client left meanwhile; rejects when the directory cannot be written (the caller answers 503).
   */
  async open(
    req: IncomingMessage,
    res: ServerResponse,
    principal: Principal,
    format: StreamFormat,
    {
      channels = [],
      clientPings = false,
    }: { channels?: readonly string[]; clientPings?: boolean } = {},
  ): Promise<boolean> {
    const session = newSessionId(this.config.nodeId);
    try {
      await this.directory.register(session, principal.userId);
    } catch (err) {
      await this.handshake.release(principal);
      throw err;
    }
    if (res.destroyed || req.socket.destroyed) {
      await Promise.all([this.handshake.release(principal), this.forget(session)]);
      return false;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', CONTENT_TYPE[format]);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    // A peer that vanished without a FIN: heartbeats alone would sit unacknowledged in the kernel for many minutes.
    req.socket.setKeepAlive(true, this.config.heartbeatIntervalMs);
    const socket = new StreamSocket(session, format, res, clientPings);
    this.local.set(session, { socket, userId: principal.userId });
    socket.once('close', this.onClose);
    this.lifecycle.open(undefined, socket.asWebSocket(), req, principal, { session });
    if (channels.length > 0) {
      socket.receive(
        channels.map((channel) =>
          Buffer.from(JSON.stringify({ event: 'channel.subscribe', data: { channel } })),
        ),
      );
    }
    return true;
  }

  /**
   * Hands a client's frames to its session, wherever it is. False when the session is unknown, closed or another
   * user's (the caller answers 404).
   */
  async send(principal: Principal, session: string, frames: readonly string[]): Promise<boolean> {
    const node = nodeOfSession(session);
    if (node === undefined) return false;
    const owner =
      node === this.config.nodeId
        ? this.local.get(session)?.userId
        : await this.directory.ownerOf(session);
    if (owner !== principal.userId) return false;
    await this.push.command('command.stream.send', {
      session,
      userId: principal.userId,
      frames: [...frames],
    });
    return true;
  }

  @OnEvent({ name: 'command.stream.send' })
  deliver({ session, userId, frames }: HubbubEventMap['command.stream.send']): void {
    const entry = this.local.get(session);
    if (!entry || entry.userId !== userId) return;
    entry.socket.receive(frames.map((frame) => Buffer.from(frame)));
  }

  /** An instance is gone: its sessions with it. */
  @OnEvent({ name: 'cluster.node-gone', priority: EventPriority.Shared })
  async nodeGone({ node }: HubbubEventMap['cluster.node-gone']): Promise<void> {
    await this.directory.dropNode(node);
  }

  /** Redis lost this instance's state (or reaped it): its open sessions are written again. */
  @OnEvent({ name: 'cluster.state-lost', priority: EventPriority.Shared })
  async stateLost({ node }: HubbubEventMap['cluster.state-lost']): Promise<void> {
    if (node !== this.config.nodeId) return;
    for (const [session, { userId }] of this.local) {
      await this.directory.register(session, userId);
    }
  }

  private closed(socket: StreamSocket): void {
    this.local.delete(socket.session);
    void this.forget(socket.session);
  }

  private forget(session: string): Promise<void> {
    return this.directory.remove(session).catch((err: unknown) => {
      this.log.debug(`stream session not removed: ${loggableError(err)}`);
    });
  }
}
