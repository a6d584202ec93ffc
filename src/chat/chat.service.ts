import { Inject, Injectable, Logger } from '@nestjs/common';
import { AccessCheck } from '../access/access-check';
import { Observations } from '../common/observations';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { EventBus } from '../events/event-bus';
import { PushService } from '../fanout/push.service';
import { PresenceService } from '../presence/presence.service';
import type { Member } from '../presence/store/presence-store';
import { HubbubError } from '../protocol/errors';
import { dmPeer, dmRoom } from '../protocol/names';
import { fitReply, jsonBytes } from '../protocol/reply-budget';
import { RoomService } from '../rooms/room.service';
import { type AppendResult, MessageStore, type StoredMessage } from '../store/message-store';
import { MessageExtras } from './message-extras';
import { MessageHooks, type MessageContext } from './message-hooks';
import { type JoinUnread, UnreadService } from './unread.service';
import type { Connection } from '../ws/connection';

export const JOIN_SINCE_LIMIT = 100;
export const JOIN_RECENT_LIMIT = 50;
export const HISTORY_DEFAULT_LIMIT = 50;
/** Longest text a message may have (the contract's `chat.send`), also for what a hook returns. */
const MAX_TEXT = 4000;

export interface JoinResult extends JoinUnread {
  room: string;
  seq: number;
  members: Member[];
  messages: StoredMessage[];
  /** Set when messages were left out to keep the reply under HISTORY_REPLY_MAX_BYTES. */
  more?: true;
}

export interface HistoryResult {
  room: string;
  messages: StoredMessage[];
  /** Set when messages were left out to keep the reply under HISTORY_REPLY_MAX_BYTES. */
  more?: true;
}

/** Chat rooms with durable history: a message is pushed only after the store committed it. */
@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly store: MessageStore,
    private readonly rooms: RoomService,
    private readonly presence: PresenceService,
    private readonly push: PushService,
    private readonly bus: EventBus,
    private readonly hooks: MessageHooks,
    private readonly observe: Observations,
    private readonly access: AccessCheck,
    private readonly unread: UnreadService,
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly extras: MessageExtras,
  ) {}

  /**
   * A failed join changes nothing: live delivery starts (locally) before the history is read, so no message falls
   * between the two, but it is undone when the read fails, and the presence join (seen by others) comes last.
   * A connection's joins and leaves run one after another, in the order they came (see RoomService.serialize).
   */
  join(conn: Connection, room: string, since?: number): Promise<JoinResult> {
    return this.rooms.serialize(conn, () => this.joinNow(conn, room, since));
  }

  leave(conn: Connection, room: string): Promise<void> {
    return this.rooms.serialize(conn, () => this.leaveNow(conn, room));
  }

  /**
   * Leaves every room that `lost` says the connection may no longer hold, each with a push `chat.left {room,
   * reason}`. At once, not behind a join in flight (a slow policy would hold up the caller's reply): that join
   * asks again when the claims changed while it was decided, and records presence only for a room still held.
   */
  async leaveWhere(
    conn: Connection,
    lost: (room: string) => boolean,
    reason: string,
  ): Promise<void> {
    for (const room of [...conn.rooms]) {
      if (!lost(room)) continue;
      await this.leaveNow(conn, room);
      this.push.send(conn, 'chat.left', { room, reason });
    }
  }

  private async joinNow(conn: Connection, room: string, since?: number): Promise<JoinResult> {
    // The join right, asked again when auth.refresh replaced the claims while the policy was deciding (a decision
    // holds only for the claims it saw), and checked in the same turn as the join below: nothing runs between.
    let principal;
    do {
      // Closed (while queued, or while the policy decided): its cleanup ran, nothing may be added after it.
      if (conn.closed) throw new HubbubError('not_joined', 'The connection closed');
      principal = conn.principal;
      await this.access.assertRoom(principal, room);
    } while (principal !== conn.principal || conn.closed);
    const joined = this.rooms.join(conn, room);
    let messages: StoredMessage[];
    let seq: number;
    let unread: JoinUnread;
    try {
      [messages, seq] = await Promise.all([
        since === undefined
          ? this.store.history({ room, limit: JOIN_RECENT_LIMIT })
          : this.store.history({ room, after: since, limit: JOIN_SINCE_LIMIT }),
        this.store.lastSeq(room),
      ]);
      unread = await this.unread.onJoin(conn.userId, room, seq);
    } catch (err) {
      if (joined) this.rooms.leave(conn, room);
      throw err;
    }
    if (joined && !conn.rooms.has(room)) {
      // Taken away while its history was read (auth.refresh dropped the right, or the socket closed): the join
      // did not stand, and presence is recorded only for a room still held.
      throw new HubbubError('forbidden', `No access to room "${room}"`);
    }
    if (joined) await this.presence.join(conn, room);
    const members = await this.presence.members(room);
    // The recent messages are a page going back, those after `since` one going forward.
    const page = fitReply(
      messages,
      this.config.historyReplyMaxBytes,
      since === undefined ? 'last' : 'first',
      jsonBytes(members),
    );
    const reply: JoinResult = { room, seq, ...unread, members, messages: page.items };
    if (page.more) reply.more = true;
    return reply;
  }

  private async leaveNow(conn: Connection, room: string): Promise<void> {
    if (this.rooms.leave(conn, room)) await this.presence.leave(conn, room);
  }

  async send(
    conn: Connection,
    room: string,
    text: string,
    clientMsgId?: string,
    replyTo?: number,
  ): Promise<StoredMessage> {
    this.rooms.assertJoined(conn, room);
    const peer = dmPeer(room, conn.userId);
    if (peer !== undefined) return this.dm(conn, peer, text, clientMsgId, replyTo);
    // Mute, the policy and slow mode (the one access path); the slot goes back when the send fails.
    const release = await this.access.assertWrite(conn.principal, room, 'send');
    try {
      this.rooms.assertJoined(conn, room); // still joined: not kicked or banned meanwhile
      return await this.post(room, conn.userId, text, {
        name: conn.principal.name,
        clientMsgId,
        except: conn,
        replyTo,
      });
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** Stores then pushes to the room; also the server API's entry point (no sending connection). */
  async post(
    room: string,
    userId: string,
    text: string,
    opts: { name?: string; clientMsgId?: string; except?: Connection; replyTo?: number } = {},
  ): Promise<StoredMessage> {
    const ctx = { userId, name: opts.name, connection: opts.except };
    const { message, duplicate } = await this.append(
      ctx,
      room,
      text,
      opts.clientMsgId,
      opts.replyTo,
    );
    if (!duplicate) await this.push.toRoom(room, 'chat.message', message, opts.except);
    return message;
  }

  /** A direct message, pushed to every connection of both users whether they joined the dm room or not. */
  async dm(
    conn: Connection,
    to: string,
    text: string,
    clientMsgId?: string,
    replyTo?: number,
  ): Promise<StoredMessage> {
    const room = dmRoom(conn.userId, to);
    if (room === undefined) {
      if (dmRoom(conn.userId, conn.userId) === undefined) {
        throw new HubbubError('forbidden', 'Your user id cannot be part of a dm room name');
      }
      throw new HubbubError('validation_failed', 'Validation failed', [
        {
          field: 'to',
          // dm:<a>:<b> must fit in 128 characters: what is left for `to` depends on the sender's id.
          errors: [
            `to must be a user id made of A-Z a-z 0-9 _ . - and at most ${124 - conn.userId.length} characters long (the room dm:<a>:<b> must fit in 128)`,
          ],
        },
      ]);
    }
    const ctx = { userId: conn.userId, name: conn.principal.name, connection: conn };
    const { message, duplicate } = await this.append(ctx, room, text, clientMsgId, replyTo);
    if (!duplicate) {
      const pushes = [this.push.toUser(conn.userId, 'chat.message', message, conn)];
      if (to !== conn.userId) pushes.push(this.push.toUser(to, 'chat.message', message));
      await Promise.all(pushes);
    }
    return message;
  }

  async history(
    conn: Connection | undefined,
    q: { room: string; before?: number; after?: number; limit?: number },
  ): Promise<StoredMessage[]> {
    if (conn) await this.assertAccess(conn, q.room);
    return this.store.history({
      room: q.room,
      before: q.before,
      after: q.after,
      limit: q.limit ?? HISTORY_DEFAULT_LIMIT,
    });
  }

  /** `chat.history` of a client: the page, cut to HISTORY_REPLY_MAX_BYTES (keeping the end nearest the cursor). */
  async historyReply(
    conn: Connection,
    q: { room: string; before?: number; after?: number; limit?: number },
  ): Promise<HistoryResult> {
    const messages = await this.history(conn, q);
    // `after` pages forward (the store reads oldest first): keep the oldest; `before` alone or neither pages back.
    const keep = q.after !== undefined ? 'first' : 'last';
    const page = fitReply(messages, this.config.historyReplyMaxBytes, keep);
    return page.more
      ? { room: q.room, messages: page.items, more: true }
      : { room: q.room, messages: page.items };
  }

  async typing(conn: Connection, room: string, typing: boolean): Promise<void> {
    this.rooms.assertJoined(conn, room);
    await this.push.toRoom(room, 'chat.typing', { room, userId: conn.userId, typing }, conn);
  }

  /** Hooks, then the durable append (timed); `chat.stored` for a new message (the caller pushes it). */
  private async append(
    ctx: MessageContext,
    room: string,
    text: string,
    clientMsgId?: string,
    replyTo?: number,
  ): Promise<AppendResult> {
    const draft = await this.draftText(ctx, room, text);
    const extras = await this.extras.of(room, draft, replyTo);
    const started = performance.now();
    const result = await this.store.append({
      room,
      userId: ctx.userId,
      name: ctx.name,
      text: draft,
      clientMsgId,
      ...extras,
    });
    this.observe.chatAppend((performance.now() - started) / 1000);
    await this.unread.stored(result);
    if (!result.duplicate) {
      this.afterStore(result.message);
      void this.bus.emit('chat.stored', { message: result.message });
    }
    return result;
  }

  /** MessageHooks.afterStore, not awaited by the reply; what it throws is logged and dropped. */
  private afterStore(message: StoredMessage): void {
    const failed = (err: unknown): void =>
      this.logger.error(
        `afterStore failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    try {
      void Promise.resolve(this.hooks.afterStore(message)).catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  /** The text to store, as MessageHooks.beforeSend has it (which may also refuse by throwing). */
  private async draftText(ctx: MessageContext, room: string, text: string): Promise<string> {
    const draft = await this.hooks.beforeSend(ctx, { room, text });
    if (typeof draft?.text !== 'string' || draft.text.length < 1 || draft.text.length > MAX_TEXT) {
      throw new HubbubError('internal', 'The message hook returned an invalid draft');
    }
    return draft.text;
  }

  /** The join right of chat.history, through the one access path. */
  private assertAccess(conn: Connection, room: string): Promise<void> {
    return this.access.assertRoom(conn.principal, room);
  }
}
