import { rid } from '../support/fixtures';
import { nextEvent, sdkSuite } from '../support/sdk-clients';

/**
 * The client SDK's read markers and unread counts (client/hubbub-chat.js) against a real server: unread(),
 * markRead(), forget(), and chat.join's lastRead and unread, across two devices of one user.
 */
jest.setTimeout(30_000);

describe('client SDK: read markers and unread counts', () => {
  const clients = sdkSuite();

  it('unread() counts other users’ messages above the read marker; markRead() lowers it on every device; forget() drops it', async () => {
    const room = `unread-${rid()}`;
    const [a, b] = [`ann${rid()}`, `ben${rid()}`];
    const ann = await clients.connect(a);
    const ben = await clients.connect(b);
    await ann.join(room);
    await ben.join(room);
    const own = await ben.send(room, 'hi all'); // a user's own send moves their read marker to it
    await ann.send(room, 'hello');
    const third = await ann.send(room, 'are you there');
    const last = await ann.send(room, 'and one more');

    expect((await ben.unread()).find((r) => r.room === room)).toEqual({
      room,
      seq: last.seq,
      lastRead: own.seq,
      unread: 3,
      mentions: 0,
    });
    expect((await ann.unread()).find((r) => r.room === room)).toMatchObject({
      lastRead: last.seq,
      unread: 0,
    });

    const seenByRoom = nextEvent(ann, 'chat.read', (r: { userId: string }) => r.userId === b);
    await ben.markRead(room, third.seq);
    expect(await seenByRoom).toEqual({ room, userId: b, seq: third.seq });
    expect((await ben.unread()).find((r) => r.room === room)).toEqual({
      room,
      seq: last.seq,
      lastRead: third.seq,
      unread: 1,
      mentions: 0,
    });
    // Another device of ben's sees the marker in chat.join's reply; markers never move back.
    const benToo = await clients.connect(b);
    expect(await benToo.join(room)).toMatchObject({ lastRead: third.seq, unread: 1 });
    await benToo.markRead(room, own.seq);
    expect((await ben.unread()).find((r) => r.room === room)).toMatchObject({
      lastRead: third.seq,
    });

    await ben.forget(room);
    expect((await ben.unread()).map((r) => r.room)).not.toContain(room);
    expect(await benToo.join(room)).toMatchObject({ lastRead: 0, unread: 3 }); // ann's three;
  });
});
