import { Injectable } from '@nestjs/common';
import { MessageEdits } from '../store/message-edits';
import { type UserReaction, UserMessageStore } from '../store/user-message-store';
import { UserData, type UserDataPart } from './user-data';

const PAGE = 500;

/**
 * The reactions a person gave to messages (theirs and others'). Export: `{room, seq, reaction, ts}` in (room, seq,
 * reaction) order. Erasure: each is taken back through MessageEdits.react (`on: false`), so the message's counts
 * stay right and `message.reacted` is sent as for any taken-back reaction; those on the person's own messages
 * went with the tombstones already.
 */
@UserData()
@Injectable()
export class ReactionsPart implements UserDataPart {
  readonly name = 'reactions';

  constructor(
    private readonly store: UserMessageStore,
    private readonly edits: MessageEdits,
  ) {}

  async *export(userId: string): AsyncIterable<UserReaction> {
    for await (const page of this.pages(userId)) yield* page;
  }

  async erase(userId: string): Promise<void> {
    for await (const page of this.pages(userId)) {
      for (const { room, seq, reaction } of page) {
        await this.edits.react(room, seq, { reaction, userId, on: false, ts: Date.now() });
      }
    }
  }

  private async *pages(userId: string): AsyncIterable<UserReaction[]> {
    let after: UserReaction | undefined;
    for (;;) {
      const page = await this.store.reactionsPage(userId, after, PAGE);
      if (page.length > 0) yield page;
      if (page.length < PAGE) return;
      after = page[page.length - 1];
    }
  }
}
