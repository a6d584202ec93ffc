import { randomBytes } from 'node:crypto';
import { removeBuild, type ChildServer } from '../support/child-server';
import { spawnCluster, stopCluster } from '../support/cluster';
import { rid } from '../support/fixtures';
import { pgQuery } from '../support/pg-query';
import { servicesGate } from '../support/services';
import { signToken } from '../support/tokens';
import { Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';

/**
 * Read markers, mentions and `message.notify` on two instances sharing Redis and PostgreSQL, as behind a load
 * balancer: a user's devices on different instances see each other's reads, and each notification goes out once
 * for the cluster, only to users with no connection on any instance.
 */
const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
const gate = redis.available ? postgres : redis;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const run = rid();

interface RoomUnread {
  room: string;
  seq: number;
  lastRead: number;
  unread: number;
  mentions: number;
}

gate.describe('read markers and notifications on two instances', () => {
  let nodes: ChildServer[] = [];
  let receiver: Receiver;
  const clients: TestClient[] = [];
  const schema = `hubbub_unread_${randomBytes(4).toString('hex')}`;

  const connect = async (node: ChildServer, sub: string): Promise<TestClient> => {
    const client = await TestClient.connect(node.wsUrl, signToken(sub));
    clients.push(client);
    return client;
  };
  const unreadOf = async (client: TestClient, room: string): Promise<RoomUnread | undefined> =>
    ((await client.call('chat.unread', {})).rooms as RoomUnread[]).find((r) => r.room === room);
  const notifies = (userId: string) =>
    receiver.of('message.notify').filter((d) => d.body.data.userId === userId);

  beforeAll(async () => {
    await pgQuery(postgres.url, `CREATE SCHEMA "${schema}"`);
    receiver = await Receiver.start();
    const url = new URL(postgres.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    nodes = await spawnCluster(['a', 'b'], (name) => ({
      REDIS_URL: redis.url,
      DATABASE_URL: url.toString(),
      NODE_ID: `unread-${name}-${run}`,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      RATE_LIMIT_PER_SEC: '1000',
      RATE_LIMIT_BURST: '1000',
      LOG_LEVEL: 'warn',
    }));
  }, 120_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await stopCluster(nodes);
    removeBuild();
    await receiver?.stop();
    await pgQuery(postgres.url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }, 30_000);

  it("a read on one instance lowers the count on the user's devices on the other, joined or not", async () => {
    const room = `room-${run}-${rid()}`;
    const bob = `bob-${rid()}`;
    const alice = await connect(nodes[0], `alice-${rid()}`);
    const phone = await connect(nodes[0], bob);
    const laptop = await connect(nodes[1], bob);
    const tablet = await connect(nodes[1], bob);
    await alice.call('chat.join', { room });
    await phone.call('chat.join', { room });
    await tablet.call('chat.join', { room });
    for (let i = 0; i < 3; i++) await alice.call('chat.send', { room, text: `m${i}` });
    expect(await unreadOf(laptop, room)).toBeUndefined();
    expect(await tablet.call('chat.leave', { room })).toEqual({ room });
    expect(await tablet.call('chat.join', { room })).toMatchObject({
      seq: 3,
      lastRead: 0,
      unread: 3,
    });
    await phone.call('chat.read', { room, seq: 2 });
    for (const device of [laptop, tablet]) {
      expect((await device.next('chat.read', 10_000)).data).toEqual({ room, userId: bob, seq: 2 });
      expect(await unreadOf(device, room)).toEqual({
        room,
        seq: 3,
        lastRead: 2,
        unread: 1,
        mentions: 0,
      });
    }
    // Never back, whichever instance is asked.
    await laptop.call('chat.join', { room });
    await laptop.call('chat.read', { room, seq: 1 });
    expect(await unreadOf(phone, room)).toMatchObject({ lastRead: 2, unread: 1 });
  }, 30_000);

  it("pushes user.mention to the mentioned user's connection on the other instance, joined or not, and counts it there", async () => {
    const room = `room-${run}-${rid()}`;
    const alice = `alice-${rid()}`;
    const carol = `carol-${rid()}`;
    const a = await connect(nodes[0], alice);
    const inRoom = await connect(nodes[0], carol);
    const elsewhere = await connect(nodes[1], carol);
    await a.call('chat.join', { room });
    await inRoom.call('chat.join', { room });
    await inRoom.call('chat.read', { room, seq: 0 });
    const mark = a.frames.length;
    const { message } = await a.call('chat.send', { room, text: `ping @${carol}` });
    expect(message.mentions).toEqual([carol]);
    for (const device of [elsewhere, inRoom]) {
      expect((await device.next('user.mention', 10_000)).data).toEqual({ room, message });
    }
    expect(await unreadOf(elsewhere, room)).toEqual({
      room,
      seq: 1,
      lastRead: 0,
      unread: 1,
      mentions: 1,
    });
    expect(a.frames.slice(mark).filter((f) => f.event === 'user.mention')).toEqual([]);
    // Connected (on both instances): no message.notify for carol.
    const gone = `gone-${rid()}`;
    await a.call('chat.send', { room, text: `and @${gone}?` });
    await receiver.next('message.notify', (data) => data.userId === gone, 15_000);
    expect(notifies(carol)).toEqual([]);
  }, 30_000);

  it('sends one message.notify for a mention of a user connected nowhere, decided where the message was stored', async () => {
    const room = `room-${run}-${rid()}`;
    const dora = `dora-${rid()}`;
    const senders = [
      await connect(nodes[0], `s0-${rid()}`),
      await connect(nodes[1], `s1-${rid()}`),
    ];
    await Promise.all(senders.map((s) => s.call('chat.join', { room })));
    const sent = await Promise.all(
      senders.map((s, i) => s.call('chat.send', { room, text: `@${dora} from ${i}` })),
    );
    const ids = sent.map((r) => r.message.id as string);
    await receiver.until(
      (all) => ids.every((id) => all.some((d) => d.body.data?.message?.id === id)),
      'both notifications',
      15_000,
    );
    // One event (one id) per message for dora, whichever instance stored it.
    const perMessage = ids.map(
      (id) =>
        new Set(
          notifies(dora)
            .filter((d) => d.body.data.message.id === id)
            .map((d) => d.body.id),
        ),
    );
    expect(perMessage.map((s) => s.size)).toEqual([1, 1]);
    expect(notifies(dora)[0].body.data).toMatchObject({ userId: dora, room, reason: 'mention' });
  }, 30_000);

  it('sends one message.notify for a dm to a user connected nowhere, none to one connected on the other instance', async () => {
    const amy = `amy-${rid()}`;
    const online = `on-${rid()}`;
    const offline = `off-${rid()}`;
    const a = await connect(nodes[0], amy);
    await connect(nodes[1], online);
    await a.call('chat.dm', { to: online, text: 'you are on b' });
    const { message } = await a.call('chat.dm', { to: offline, text: 'you are nowhere' });
    const d = await receiver.next('message.notify', (data) => data.userId === offline, 15_000);
    expect(d.body.data).toEqual({ userId: offline, room: message.room, message, reason: 'dm' });
    // A second one from the other instance proves both have had the time to send theirs, if any.
    const b = await connect(nodes[1], `ben-${rid()}`);
    const later = await b.call('chat.dm', { to: offline, text: 'still nowhere' });
    await receiver.next('message.notify', (data) => data.message.id === later.message.id, 15_000);
    const ids = notifies(offline).map((x) => x.body.id);
    expect(new Set(ids).size).toBe(2);
    expect(notifies(online)).toEqual([]);
  }, 30_000);
});
