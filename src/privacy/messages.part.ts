import { Injectable } from '@nestjs/common';
import type { StoredMessage } from '../store/message-store';
import { type MessageKey, UserMessageStore } from '../store/user-message-store';
import { BatchPacer } from './batch-pacer';
import { UserData, type UserDataPart } from './user-data';

/** Rows per page of the export, and per erased batch at most (one short transaction each, paced). */
export const MESSAGE_PAGE = 500;

/**
 * The messages a person wrote. Export: every one, in (room, seq) order, a page at a time. Erasure: each becomes a
 * tombstone (`text: ""`, deleted, no name, mentions or reactions), keeping its seq, a batch at a time.
 */
@UserData()
@Injectable()
export class MessagesPart implements UserDataPart {
  readonly name = 'messages';

  constructor(private readonly store: UserMessageStore) {}

  async *export(userId: string): AsyncIterable<StoredMessage> {
    let after: MessageKey | undefined;
    for (;;) {
      const page = await this.store.page(userId, after, MESSAGE_PAGE);
      yield* page;
      if (page.length < MESSAGE_PAGE) return;
      const last = page[page.length - 1];
      after = { room: last.room, seq: last.seq };
    }
  }

  async erase(userId: string): Promise<void> {
    const pacer = new BatchPacer(MESSAGE_PAGE);
    let after: MessageKey | undefined;
    do after = await pacer.run((size) => this.store.erasePage(userId, after, size));
    while (after !== undefined);
  }
}
