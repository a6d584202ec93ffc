import type { Message } from '../support/fixtures';
import { rid } from '../support/fixtures';
import { nextEvent, refusal, sdkSuite } from '../support/sdk-clients';

/**
 * The client SDK's chat lifecycle methods (client/hubbub-chat.js) against a real server: edit, delete, react,
 * reactions, replies and thread, search, unread counts, read markers, forget, and the pushes they cause.
 */
jest.setTimeout(30_000);

describe('client SDK: chat lifecycle (edit, delete, react, thread, search, unread)', () => {
  const clients = sdkSuite();

  /** Two users joined to a fresh room. */
  async function pair() {
    const room = `life-${rid()}`;
    const [a, b] = [`ann${rid()}`, `ben${rid()}`];
    const ann = await clients.connect(a);
    const ben = await clients.connect(b);
    await ann.join(room);
    await ben.join(room);
    return { room, a, b, ann, ben };
  }

  it('edit() resolves with the edited message and the others get chat.updated; history has the new text', async () => {
    const { room, ann, ben } = await pair();
    const sent = await ann.send(room, 'helo wrold');
    const updated = nextEvent<{ room: string; message: Message }>(ben, 'chat.updated');
    const edited = await ann.edit(room, sent.seq, 'hello world');
    expect(edited).toMatchObject({
      seq: sent.seq,
      text: 'hello world',
      editedAt: expect.any(Number),
    });
    expect(edited.editedAt).toBeGreaterThanOrEqual(sent.ts);
    expect(await updated).toEqual({ room, message: edited });
    const { messages } = await ben.request('chat.history', { room });
    expect(messages).toEqual([edited]);
  });

  it('edit() by someone else is refused with forbidden, and the message stays as it was', async () => {
    const { room, ann, ben } = await pair();
    const sent = await ann.send(room, 'mine');
    expect(await refusal(ben.edit(room, sent.seq, 'yours now'))).toBeInstanceOf(
      clients.sdk.HubbubError,
    );
    expect(await refusal(ben.edit(room, sent.seq, 'yours now'))).toMatchObject({
      code: 'forbidden',
    });
    const { messages } = await ann.request('chat.history', { room });
    expect(messages).toEqual([sent]);
  });

  it('delete() leaves a tombstone: chat.deleted pushed, text gone, seqs gapless; editing it then is not_found', async () => {
    const { room, ann, ben } = await pair();
    const first = await ann.send(room, 'a secret I regret');
    const second = await ann.send(room, 'the next one');
    const deleted = nextEvent<{ room: string; seq: number }>(ben, 'chat.deleted');
    await expect(ann.delete(room, first.seq)).resolves.toBeUndefined();
    expect(await deleted).toEqual({ room, seq: first.seq });
    await expect(ann.delete(room, first.seq)).resolves.toBeUndefined(); // twice is fine
    const { messages } = await ben.request('chat.history', { room });
    expect(messages.map((m: Message) => m.seq)).toEqual([first.seq, second.seq]);
    expect(messages[0]).toMatchObject({ seq: first.seq, text: '', deleted: true });
    expect(JSON.stringify(messages[0])).not.toContain('regret');
    expect(await refusal(ann.edit(room, first.seq, 'undo'))).toMatchObject({ code: 'not_found' });
  });

  it('react() counts each user once per reaction, pushes chat.reacted, and reactions() says who', async () => {
    const { room, a, b, ann, ben } = await pair();
    const sent = await ann.send(room, 'react to me');
    const pushed = nextEvent(ann, 'chat.reacted');
    expect(await ben.react(room, sent.seq, '👍')).toEqual({ '👍': 1 });
    expect(await pushed).toEqual({
      room,
      seq: sent.seq,
      reaction: '👍',
      userId: b,
      on: true,
      count: 1,
    });
    expect(await ben.react(room, sent.seq, '👍')).toEqual({ '👍': 1 }); // once per user
    expect(await ann.react(room, sent.seq, '👍')).toEqual({ '👍': 2 });
    expect((await ann.reactions(room, sent.seq, '👍')).sort()).toEqual([a, b].sort());

    const takenBack = nextEvent(ann, 'chat.reacted', (r: { on: boolean }) => !r.on);
    await ben.react(room, sent.seq, '👍', false);
    expect(await takenBack).toMatchObject({ userId: b, on: false, count: 1 });
    const { messages } = await ben.request('chat.history', { room });
    expect(messages[0].reactions).toEqual({ '👍': 1 });
    expect(await refusal(ben.react(room, sent.seq, 'two words'))).toMatchObject({
      code: 'validation_failed',
    });
  });

  it('send() with replyTo makes a reply, and thread() pages the replies in order', async () => {
    const { room, ann, ben } = await pair();
    const root = await ann.send(room, 'question?');
    const r1 = await ben.send(room, 'answer one', { replyTo: root.seq });
    await ann.send(room, 'not a reply');
    const r2 = await ann.send(room, 'answer two', { replyTo: root.seq });
    expect(r1.replyTo).toBe(root.seq);

    const page1 = await ann.thread(room, root.seq, { limit: 1 });
    expect(page1).toEqual({ room, seq: root.seq, messages: [r1], more: true });
    const page2 = await ann.thread(room, root.seq, { after: r1.seq });
    expect(page2).toMatchObject({ messages: [r2], more: false });
    expect(await refusal(ann.send(room, 'to nothing', { replyTo: 9999 }))).toMatchObject({
      code: 'not_found',
    });
  });

  it('search() finds messages holding every word, newest first; deleted never, edited by the new text', async () => {
    const { room, ann, ben } = await pair();
    const m1 = await ann.send(room, 'the blue whale sings');
    const m2 = await ben.send(room, 'whale songs are blue sometimes');
    const m3 = await ann.send(room, 'a green whale');
    const m4 = await ben.send(room, 'blue whale again');
    await ben.delete(room, m4.seq);
    await ann.edit(room, m3.seq, 'a blue whale now');

    const found = await ann.search(room, 'whale blue');
    expect(found.room).toBe(room);
    expect(found.messages.map((m) => m.seq)).toEqual([m3.seq, m2.seq, m1.seq]);
    expect(found.more).toBe(false);
    const paged = await ann.search(room, 'whale blue', { limit: 1, before: m3.seq });
    expect(paged).toMatchObject({ messages: [{ seq: m2.seq }], more: true });
    expect((await ann.search(room, 'green')).messages).toEqual([]);
  });

  it('unread() counts the messages that mention the user; reading past them clears the count', async () => {
    const { room, b, ann, ben } = await pair();
    const own = await ben.send(room, 'hi all');
    const mention = nextEvent<{ room: string; message: Message }>(ben, 'user.mention');
    const pinged = await ann.send(room, `ping @${b} please`);
    const last = await ann.send(room, 'and one more');
    expect(await mention).toMatchObject({ room, message: { seq: pinged.seq, mentions: [b] } });
    expect((await ben.unread()).find((r) => r.room === room)).toEqual({
      room,
      seq: last.seq,
      lastRead: own.seq,
      unread: 2,
      mentions: 1,
    });
    await ben.markRead(room, pinged.seq);
    expect((await ben.unread()).find((r) => r.room === room)).toMatchObject({
      unread: 1,
      mentions: 0,
    });
  });

  it('user.mention reaches a mentioned user who has not joined the room', async () => {
    const { room, a, ann } = await pair();
    const c = `cat${rid()}`;
    const cat = await clients.connect(c);
    const mention = nextEvent<{ room: string; message: Message }>(cat, 'user.mention');
    const sent = await ann.send(room, `hey @${c}, look`);
    expect(await mention).toEqual({ room, message: sent });
    expect(sent).toMatchObject({ userId: a, mentions: [c] });
  });
});
