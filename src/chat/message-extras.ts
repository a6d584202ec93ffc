import { Injectable } from '@nestjs/common';
import { PresenceService } from '../presence/presence.service';
import { HubbubError } from '../protocol/errors';
import { MessageEdits } from '../store/message-edits';

/** Most users one message mentions (the first ones in the text). */
export const MAX_MENTIONS = 20;

/**
 * `@<userId>` in a text: a user id made of A-Z a-z 0-9 _ . - (the characters of `dm:` room names), at most 128
 * characters, not starting with `.` or `-` and read without trailing ones (so "thanks @bob." mentions bob), and not
 * inside a word or an e-mail address (`me@example.com`). A longer run names nobody.
 */
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]+)/gu;
const USER_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The user ids a text mentions, each once, in order of appearance. */
export function mentionTokens(text: string): string[] {
  if (!text.includes('@')) return []; // most messages: no regex run on the send path
  const ids = Array.from(text.matchAll(MENTION), (m) => m[1].replace(/[.-]+$/, ''));
  return [...new Set(ids.filter((id) => USER_ID.test(id)))];
}

/** What a new message carries besides its text. */
export interface MessageExtrasResult {
  replyTo?: number;
  mentions?: string[];
}

/**
 * Replies and mentions of a message being sent or edited.
 *
 * Who may be mentioned (users who may read the room): anyone in a public room; the two users of a `dm:` room; in a
 * `private:` room the users joined to it right now (on any instance): the right to read a private room lives in each
 * user's own token (or the access proxy's answer for them), which the server holds only for the users connected to
 * it, so the members are the users it can vouch for. Other `@` tokens stay plain text.
 */
@Injectable()
export class MessageExtras {
  constructor(
    private readonly edits: MessageEdits,
    private readonly presence: PresenceService,
  ) {}

  async of(room: string, text: string, replyTo?: number): Promise<MessageExtrasResult> {
    const extras: MessageExtrasResult = {};
    if (replyTo !== undefined) {
      const parent = await this.edits.get(room, replyTo);
      if (!parent || parent.deleted) {
        throw new HubbubError('not_found', `No message ${replyTo} in room "${room}" to reply to`);
      }
      extras.replyTo = replyTo;
    }
    const mentions = await this.mentions(room, text);
    if (mentions.length > 0) extras.mentions = mentions;
    return extras;
  }

  /** The users `text` mentions who may read `room`, at most MAX_MENTIONS. */
  async mentions(room: string, text: string): Promise<string[]> {
    let users = mentionTokens(text);
    if (users.length === 0) return users;
    if (room.startsWith('dm:')) {
      const pair = room.slice(3).split(':');
      users = users.filter((u) => pair.includes(u));
    } else if (room.startsWith('private:')) {
      const members = new Set((await this.presence.members(room)).map((m) => m.userId));
      users = users.filter((u) => members.has(u));
    }
    return users.slice(0, MAX_MENTIONS);
  }
}
