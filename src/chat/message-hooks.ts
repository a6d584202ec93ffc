import { Injectable } from '@nestjs/common';
import type { StoredMessage } from '../store/message-store';
import type { Connection } from '../ws/connection';

/** What a message will be stored as; `beforeSend` may return it with another text. */
export interface MessageDraft {
  room: string;
  text: string;
}

/** Who sends: a connection (`chat.send`, `chat.dm`) or the server API (`connection` absent). */
export interface MessageContext {
  userId: string;
  name?: string;
  connection?: Connection;
}

/**
 * The seam for moderation and side effects on chat messages; replace it through DI
 * (`{ provide: MessageHooks, useClass: Moderation }`).
 * - `beforeSend` runs before the message is stored: return the draft to store (its text possibly rewritten), or
 *   throw a `HubbubError` (e.g. `forbidden`), which answers the request and stores nothing. The room cannot be
 *   changed.
 * - `afterStore` runs after the commit, for side effects: the reply does not wait for it, and what it throws is
 *   logged and dropped.
 */
export abstract class MessageHooks {
  abstract beforeSend(
    ctx: MessageContext,
    draft: MessageDraft,
  ): MessageDraft | Promise<MessageDraft>;
  abstract afterStore(message: StoredMessage): void | Promise<void>;
}

/** The default: stores every draft as it is, and does nothing afterwards. */
@Injectable()
export class PassThroughMessageHooks extends MessageHooks {
  beforeSend(_ctx: MessageContext, draft: MessageDraft): MessageDraft {
    return draft;
  }

  afterStore(): void {}
}
