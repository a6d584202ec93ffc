import { describeLifecycle } from '../chat/lifecycle-modes';
import { rid, type Message } from '../support/fixtures';
import { loadSdk, nextEvent, refusal, type Sdk, type SdkClient } from '../support/sdk-clients';
import type { TestServer } from '../support/server';

/**
 * The client SDK's chat lifecycle and moderation where the users sit on different instances: on SQLite, on
 * PostgreSQL, and on PostgreSQL with two instances and Redis (the second user then connects to the other one).
 */
jest.setTimeout(60_000);

let sdk: Sdk;
beforeAll(async () => {
  sdk = await loadSdk();
});

describeLifecycle('client SDK across instances', ({ server, other }) => {
  const open: SdkClient[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });

  async function client(
    on: TestServer,
    userId: string,
    claims: Record<string, unknown> = {},
  ): Promise<SdkClient> {
    const token = await on.token(userId, claims);
    const c = new sdk.HubbubClient(on.wsUrl, { token, reconnect: false });
    open.push(c);
    await c.connect();
    return c;
  }

  it('edits, deletions, reactions and mentions reach a user on the other instance', async () => {
    const room = `cl-${rid()}`;
    const [a, b, c] = [`ann${rid()}`, `ben${rid()}`, `cy${rid()}`];
    const ann = await client(server(), a);
    const ben = await client(other(), b);
    const cy = await client(other(), c); // not joined: mentions still reach them
    await ann.join(room);
    await ben.join(room);

    const mention = nextEvent<{ room: string; message: Message }>(cy, 'user.mention');
    const sent = await ann.send(room, `hello @${c}`);
    expect((await mention).message.seq).toBe(sent.seq);

    const updated = nextEvent<{ message: Message }>(ben, 'chat.updated');
    await ann.edit(room, sent.seq, 'hello again');
    expect((await updated).message).toMatchObject({ seq: sent.seq, text: 'hello again' });

    const reacted = nextEvent(ann, 'chat.reacted');
    await ben.react(room, sent.seq, '🎉');
    expect(await reacted).toMatchObject({ userId: b, reaction: '🎉', count: 1 });

    const deleted = nextEvent(ben, 'chat.deleted');
    await ann.delete(room, sent.seq);
    expect(await deleted).toEqual({ room, seq: sent.seq });
  });

  it('a ban on one instance takes the user out on the other and refuses their join there; a read lowers the other device’s count', async () => {
    const room = `cl-${rid()}`;
    const [owner, member] = [`own${rid()}`, `mem${rid()}`];
    const admin = await client(server(), `root${rid()}`, { roles: ['admin'] });
    await admin.setRole(room, owner, 'owner');
    const boss = await client(server(), owner);
    const phone = await client(other(), member);
    const laptop = await client(server(), member);
    await boss.join(room);
    await phone.join(room);
    await laptop.join(room);

    await laptop.send(room, 'mine');
    const last = await boss.send(room, 'read me');
    expect((await phone.unread()).find((r) => r.room === room)).toMatchObject({ unread: 1 });
    await laptop.markRead(room, last.seq);
    expect((await phone.unread()).find((r) => r.room === room)).toMatchObject({ unread: 0 });

    const left = nextEvent(phone, 'chat.left');
    await boss.ban(room, member);
    expect(await left).toEqual({ room, reason: 'banned' });
    expect(await refusal(phone.join(room))).toMatchObject({
      code: 'forbidden',
      details: { reason: 'banned' },
    });
  });
});
