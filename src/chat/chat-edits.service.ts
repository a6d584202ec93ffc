import { Inject, Injectable } from '@nestjs/common';
import { AccessCheck } from '../access/access-check';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { EventBus } from '../events/event-bus';
import { PushService } from '../fanout/push.service';
import { HubbubError } from '../protocol/errors';
import { fitReply } from '../protocol/reply-budget';
import { MAX_REACTORS, MessageEdits, searchWords } from '../store/message-edits';
import type { StoredMessage } from '../store/message-store';
import type { Connection } from '../ws/connection';
import { MessageExtras } from './message-extras';
import { MessageHooks } from './message-hooks';

export const THREAD_DEFAULT_LIMIT = 50;
export const SEARCH_DEFAULT_LIMIT = 20;

export interface ThreadResult {
  room: string;
  seq: number;
  messages: StoredMessage[];
  more: boolean;
}

export interface SearchResult {
  room: string;
  messages: StoredMessage[];
  more: boolean;
}

/**
 * What happens to messages after they are sent: `chat.edit`, `chat.delete`, `chat.react`, and the reads
 * `chat.reactions`, `chat.thread`, `chat.search`; also the server API's edit, delete and search (no connection:
 * the server may do anything). Each change is durable (MessageEdits, with its webhook in the same transaction)
 * before it is pushed to the room's other connections on every instance, announced on the event bus, and answered.
 *
 * Rights: changes need the connection joined to the room (`not_joined`; a connection that may not read the room at
 * all gets `forbidden`); reads need the room's read right (AccessCheck.assertRoom). Edits: the author only.
 * Deletes: AccessCheck.assertMayDelete (the author, or a moderator, owner or admin of the room). Edits and
 * reactions are refused to a muted user (AccessCheck.assertWrite).
 */
@Injectable()
export class ChatEditsService {
  constructor(
    private readonly edits: MessageEdits,
    private readonly access: AccessCheck,
    private readonly push: PushService,
    private readonly bus: EventBus,
    private readonly hooks: MessageHooks,
    private readonly extras: MessageExtras,
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
  ) {}

  async edit(
    conn: Connection | undefined,
    room: string,
    seq: number,
    text: string,
  ): Promise<StoredMessage> {
    if (conn) await this.assertWriter(conn, room);
    if (conn) await this.access.assertWrite(conn.principal, room, 'edit'); // muted: forbidden
    const previous = await this.existing(room, seq);
    if (conn && previous.userId !== conn.userId) {
      throw new HubbubError('forbidden', 'Only the author may edit a message');
    }
    const ctx = { userId: previous.userId, name: previous.name, connection: conn };
    const draft = await this.hooks.beforeSend(ctx, { room, text });
    if (typeof draft?.text !== 'string' || draft.text.length < 1 || draft.text.length > 4000) {
      throw new HubbubError('internal', 'The message hook returned an invalid draft');
    }
    const mentions = await this.extras.mentions(room, draft.text);
    const message = await this.edits.edit(room, seq, {
      text: draft.text,
      mentions,
      editedAt: Date.now(),
    });
    if (!message) throw notFound(room, seq); // deleted meanwhile
    await this.push.toRoom(room, 'chat.updated', { room, message }, conn);
    void this.bus.emit('chat.updated', { message, previous });
    return message;
  }

  /** Idempotent: deleting a deleted message succeeds and changes nothing. `by`: who deletes (`server`: the API). */
  async delete(conn: Connection | undefined, room: string, seq: number): Promise<void> {
    if (conn) await this.assertWriter(conn, room);
    const message = await this.edits.get(room, seq);
    if (!message) throw notFound(room, seq);
    if (conn) await this.access.assertMayDelete(conn.principal, room, message.userId);
    if (message.deleted) return;
    const by = conn?.userId ?? 'server';
    const outcome = await this.edits.delete(room, seq, by);
    if (!outcome) throw notFound(room, seq);
    if (!outcome.changed) return;
    await this.push.toRoom(room, 'chat.deleted', { room, seq }, conn);
    void this.bus.emit('chat.deleted', { room, seq, userId: message.userId, by });
  }

  async react(
    conn: Connection,
    room: string,
    seq: number,
    reaction: string,
    on: boolean,
  ): Promise<{ reactions: Record<string, number> }> {
    await this.assertWriter(conn, room);
    await this.access.assertWrite(conn.principal, room, 'react'); // muted: forbidden
    const userId = conn.userId;
    const outcome = await this.edits.react(room, seq, { reaction, userId, on, ts: Date.now() });
    if (outcome.status === 'not_found') throw notFound(room, seq);
    if (outcome.status === 'limit') {
      throw new HubbubError(
        'limit_exceeded',
        'This message has the most distinct reactions it may have',
      );
    }
    if (outcome.changed) {
      const event = { room, seq, reaction, userId, on, count: outcome.count };
      await this.push.toRoom(room, 'chat.reacted', event, conn);
      void this.bus.emit('chat.reacted', event);
    }
    return { reactions: outcome.reactions };
  }

  async reactions(
    conn: Connection,
    room: string,
    seq: number,
    reaction: string,
  ): Promise<{ userIds: string[] }> {
    await this.access.assertRoom(conn.principal, room);
    const userIds = await this.edits.reactors(room, seq, reaction, MAX_REACTORS);
    if (!userIds) throw notFound(room, seq);
    return { userIds };
  }

  async thread(
    conn: Connection,
    q: { room: string; seq: number; after?: number; limit?: number },
  ): Promise<ThreadResult> {
    await this.access.assertRoom(conn.principal, q.room);
    await this.existing(q.room, q.seq);
    const limit = q.limit ?? THREAD_DEFAULT_LIMIT;
    const rows = await this.edits.thread(q.room, q.seq, q.after ?? 0, limit + 1);
    const page = fitReply(rows.slice(0, limit), this.config.historyReplyMaxBytes, 'first');
    return {
      room: q.room,
      seq: q.seq,
      messages: page.items,
      more: rows.length > limit || page.more,
    };
  }

  async search(
    conn: Connection | undefined,
    q: { room: string; q: string; before?: number; limit?: number },
  ): Promise<SearchResult> {
    if (conn) await this.access.assertRoom(conn.principal, q.room);
    const words = searchWords(q.q);
    if (words.length === 0) {
      throw new HubbubError('validation_failed', 'Validation failed', [
        { field: 'q', errors: ['q must contain a word (letters or digits)'] },
      ]);
    }
    const limit = q.limit ?? SEARCH_DEFAULT_LIMIT;
    const before = q.before ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.edits.search(q.room, words, before, limit + 1);
    // Newest first: a page going back, the newest kept.
    const page = fitReply(rows.slice(0, limit), this.config.historyReplyMaxBytes, 'first');
    return { room: q.room, messages: page.items, more: rows.length > limit || page.more };
  }

  /** The message, not deleted; else `not_found`. */
  private async existing(room: string, seq: number): Promise<StoredMessage> {
    const message = await this.edits.get(room, seq);
    if (!message || message.deleted) throw notFound(room, seq);
    return message;
  }

  /** Changes need the room joined; a connection that may not even read the room is told `forbidden`. */
  private async assertWriter(conn: Connection, room: string): Promise<void> {
    if (conn.rooms.has(room)) return;
    await this.access.assertRoom(conn.principal, room);
    throw new HubbubError('not_joined', `Not joined to room "${room}"`);
  }
}

function notFound(room: string, seq: number): HubbubError {
  return new HubbubError('not_found', `No message ${seq} in room "${room}"`);
}
