import { Injectable } from '@nestjs/common';
import { PushService } from '../core/push.service';
import { PresenceService } from '../presence/presence.service';
import type { Member } from '../presence/store/presence-store';
import { HubbubError } from '../protocol/errors';
import { dmPeer, dmRoom } from '../protocol/names';
import { canAccessRoom } from '../rooms/room-access';
import { RoomService } from '../rooms/room.service';
import { MessageStore, type StoredMessage } from '../store/message-store';
import type { Connection } from '../ws/connection';

export const JOIN_SINCE_LIMIT = 100;
export const JOIN_RECENT_LIMIT = 50;
export const HISTORY_DEFAULT_LIMIT = 50;

export interface JoinResult {
  room: string;
  seq: number;
  members: Member[];
  messages: StoredMessage[];
}

/** Chat rooms with durable history: a message is pushed only after the store committed it. */
@Injectable()
export class ChatService {
  constructor(
    private readonly store: MessageStore,
    private readonly rooms: RoomService,
    private readonly presence: PresenceService,
    private readonly push: PushService,
  ) {}

  /**
   * A failed join changes nothing: live delivery starts (locally) before the history is read, so no message falls
   * between the two, but it is undone when the read fails, and the presence join (seen by others) comes last.
   */
  async join(conn: Connection, room: string, since?: number): Promise<JoinResult> {
    this.assertAccess(conn, room);
    const joined = this.rooms.join(conn, room);
    let messages: StoredMessage[];
    let seq: number;
    try {
      [messages, seq] = await Promise.all([
        since === undefined
          ? this.store.history({ room, limit: JOIN_RECENT_LIMIT })
          : this.store.history({ room, after: since, limit: JOIN_SINCE_LIMIT }),
        this.store.lastSeq(room),
      ]);
    } catch (err) {
      if (joined) this.rooms.leave(conn, room);
      throw err;
    }
    if (joined) await this.presence.join(conn, room);
    return { room, seq, members: await this.presence.members(room), messages };
  }

  async leave(conn: Connection, room: string): Promise<void> {
    if (this.rooms.leave(conn, room)) await this.presence.leave(conn, room);
  }

  async send(
    conn: Connection,
    room: string,
    text: string,
    clientMsgId?: string,
  ): Promise<StoredMessage> {
    this.rooms.assertJoined(conn, room);
    const peer = dmPeer(room, conn.userId);
    if (peer !== undefined) return this.dm(conn, peer, text, clientMsgId);
    return this.post(room, conn.userId, text, {
      name: conn.principal.name,
      clientMsgId,
      except: conn,
    });
  }

  /** Stores then pushes to the room; also the server API's entry point (no sending connection). */
  async post(
    room: string,
    userId: string,
    text: string,
    opts: { name?: string; clientMsgId?: string; except?: Connection } = {},
  ): Promise<StoredMessage> {
    const { message, duplicate } = await this.store.append({
      room,
      userId,
      name: opts.name,
      text,
      clientMsgId: opts.clientMsgId,
    });
    if (!duplicate) await this.push.toRoom(room, 'chat.message', message, opts.except);
    return message;
  }

  /** A direct message, pushed to every connection of both users whether they joined the dm room or not. */
  async dm(
    conn: Connection,
    to: string,
    text: string,
    clientMsgId?: string,
  ): Promise<StoredMessage> {
    const room = dmRoom(conn.userId, to);
    if (room === undefined) {
      if (dmRoom(conn.userId, conn.userId) === undefined) {
        throw new HubbubError('forbidden', 'Your user id cannot be part of a dm room name');
      }
      throw new HubbubError('validation_failed', 'Validation failed', [
        {
          field: 'to',
          errors: ['to must be a user id made of A-Z a-z 0-9 _ . - (at most 60 characters)'],
        },
      ]);
    }
    const { message, duplicate } = await this.store.append({
      room,
      userId: conn.userId,
      name: conn.principal.name,
      text,
      clientMsgId,
    });
    if (!duplicate) {
      const pushes = [this.push.toUser(conn.userId, 'chat.message', message, conn)];
      if (to !== conn.userId) pushes.push(this.push.toUser(to, 'chat.message', message));
      await Promise.all(pushes);
    }
    return message;
  }

  history(
    conn: Connection | undefined,
    q: { room: string; before?: number; after?: number; limit?: number },
  ): Promise<StoredMessage[]> {
    if (conn) this.assertAccess(conn, q.room);
    return this.store.history({
      room: q.room,
      before: q.before,
      after: q.after,
      limit: q.limit ?? HISTORY_DEFAULT_LIMIT,
    });
  }

  async typing(conn: Connection, room: string, typing: boolean): Promise<void> {
    this.rooms.assertJoined(conn, room);
    await this.push.toRoom(room, 'chat.typing', { room, userId: conn.userId, typing }, conn);
  }

  async read(conn: Connection, room: string, seq: number): Promise<void> {
    this.rooms.assertJoined(conn, room);
    const last = await this.store.lastSeq(room);
    if (seq > last) {
      throw new HubbubError('validation_failed', 'Validation failed', [
        { field: 'seq', errors: [`seq must not be above the room's last seq (${last})`] },
      ]);
    }
    await this.push.toRoom(room, 'chat.read', { room, userId: conn.userId, seq }, conn);
  }

  private assertAccess(conn: Connection, room: string): void {
    if (!canAccessRoom(conn.principal, room)) {
      throw new HubbubError('forbidden', `No access to room "${room}"`);
    }
  }
}
