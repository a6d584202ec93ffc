import { Injectable } from '@nestjs/common';
import { HubbubError, MessageHooks, type MessageContext, type MessageDraft } from 'hubbub';
import { TeamConfig } from './team-config';

/** Moderation: refuses messages with a banned word; trims what it lets through. */
@Injectable()
export class WordFilterHooks extends MessageHooks {
  readonly stored: string[] = [];

  constructor(private readonly config: TeamConfig) {
    super();
  }

  beforeSend(_ctx: MessageContext, draft: MessageDraft): MessageDraft {
    const words = draft.text.toLowerCase().split(/\W+/);
    const banned = this.config.bannedWords.find((w) => words.includes(w));
    if (banned) throw new HubbubError('forbidden', `"${banned}" is not allowed here`);
    return { ...draft, text: draft.text.trim() };
  }

  afterStore(message: { id: string }): void {
    this.stored.push(message.id);
  }
}
