import { Injectable } from '@nestjs/common';
import { EventPriority, OnEvent } from '../events/on-event';
import type { HubbubEventMap } from '../events/event-map';
import { PushService } from '../fanout/push.service';
import { SubscriptionIndex } from '../fanout/subscription-index';
import { HubbubError } from '../protocol/errors';
import { encodePush, frameText } from '../protocol/frames';
import { dmPeer } from '../protocol/names';
import { roomTopic } from '../protocol/topics';
import { RoomService } from '../rooms/room.service';
import { type AppendResult, MessageStore } from '../store/message-store';
import { ClientRegistry } from '../ws/client-registry.service';
import type { Connection } from '../ws/connection';
import { OutboundWriter } from '../ws/outbound-writer';
import { MentionDelivery } from './mention-delivery';
import { ReadMarkerWriter } from './read-marker-writer';
import { type MarkerMove, ReadMarkers, type RoomUnread, UNREAD_ROOMS_LIMIT } from './read-markers';

/** What `chat.join`'s reply adds: the user's marker in the room and the unread messages above it. */
export interface JoinUnread {
  lastRead: number;
  unread: number;
}

/**
 * Read markers as the protocol has them: `chat.read` (forward only, pushed to the room and to the reader's other
 * connections on every instance), a user's own message moving their marker, the counts of `chat.join`,
 * `chat.unread` and the server API, and `chat.forget`.
 */
@Injectable()
export class UnreadService {
  /** `chat.unread` answers being read, per user. */
  private readonly listing = new Map<string, Promise<RoomUnread[]>>();

  constructor(
    private readonly markers: ReadMarkers,
    private readonly store: MessageStore,
    private readonly rooms: RoomService,
    private readonly push: PushService,
    private readonly index: SubscriptionIndex,
    private readonly registry: ClientRegistry,
    private readonly writer: OutboundWriter,
    private readonly mentions: MentionDelivery,
    private readonly moves: ReadMarkerWriter,
  ) {}

  /**
   * Moves the reader's marker forward to `seq` (never back: a lower seq leaves it, and the push says where it is),
   * then pushes `chat.read {room, userId, seq}` to the room and to the reader's other connections, joined or not.
   */
  async read(conn: Connection, room: string, seq: number): Promise<void> {
    this.rooms.assertJoined(conn, room);
    const last = await this.store.lastSeq(room);
    if (seq > last) {
      throw new HubbubError('validation_failed', 'Validation failed', [
        { field: 'seq', errors: [`seq must not be above the room's last seq (${last})`] },
      ]);
    }
    const marker = await this.markers.advance(conn.userId, room, seq);
    this.listing.delete(conn.userId); // a listing under way may predate the move: later requests read again
    await this.push.command('command.chat.read', {
      room,
      userId: conn.userId,
      seq: marker,
      except: conn.id,
    });
  }

  /** On every instance: one frame for the room's connections and the reader's, joined or not. */
  @OnEvent({ name: 'command.chat.read', priority: EventPriority.Local })
  readLocal({ room, userId, seq, except }: HubbubEventMap['command.chat.read']): void {
    const targets = new Set<Connection>(this.index.get(roomTopic(room)));
    for (const conn of this.registry.forUser(userId)) targets.add(conn);
    let frame: Buffer | undefined;
    for (const conn of targets) {
      if (conn.id === except) continue;
      frame ??= frameText(encodePush('chat.read', { room, userId, seq }));
      this.writer.write(conn, frame);
    }
  }

  /**
   * After an append: the author's marker moves to their message (a dm also lists the conversation for the other
   * user), written in the background (ReadMarkerWriter: the reply waits for the message's commit only; a repeat
   * moves it too, which changes nothing or repairs a move lost in a crash), and a new message is delivered to the
   * users it names.
   */
  async stored({ message, duplicate }: AppendResult): Promise<void> {
    const { room, userId, seq } = message;
    const moves: MarkerMove[] = [{ userId, room, seq }];
    const peer = dmPeer(room, userId);
    if (peer !== undefined && peer !== userId) moves.push({ userId: peer, room, seq: 0 });
    void this.moves.move(moves);
    this.listing.delete(userId);
    if (!duplicate) await this.mentions.delivered(message);
  }

  /** `chat.join`'s additions, for a room whose last seq is `seq`. */
  async onJoin(userId: string, room: string, seq: number): Promise<JoinUnread> {
    await this.moves.settled(userId);
    const lastRead = Math.min(await this.markers.lastRead(userId, room), seq);
    const { unread } = await this.markers.unread(userId, room, lastRead, seq);
    return { lastRead, unread };
  }

  /** Every room with a marker of the user (their dm rooms among them), newest activity first. */
  unread(userId: string): Promise<RoomUnread[]> {
    // The same user's requests while one is being answered share its answer (they would read the same rows); a
    // change of their markers (read, own message, forget) makes the next request read again.
    let answer = this.listing.get(userId);
    if (!answer) {
      answer = this.moves
        .settled(userId)
        .then(() => this.markers.rooms(userId, UNREAD_ROOMS_LIMIT))
        .finally(() => {
          if (this.listing.get(userId) === answer) this.listing.delete(userId);
        });
      this.listing.set(userId, answer);
    }
    return answer;
  }

  /** Drops the user's marker of the room; a dm room of theirs stays listed, with its marker back at 0. */
  async forget(userId: string, room: string): Promise<void> {
    await this.moves.settled(userId); // a move still on its way would make the marker again
    const keep = dmPeer(room, userId) !== undefined;
    await this.markers.forget(userId, room, keep);
    if (!keep) this.moves.forgotten(userId, room);
    this.listing.delete(userId);
  }
}
