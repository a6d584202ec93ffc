import { rid } from '../support/fixtures';
import { nextEvent, refusal, type SdkClient, sdkSuite } from '../support/sdk-clients';

/**
 * The client SDK's room moderation methods (client/hubbub-chat.js) against a real server: roles, room.info, kick,
 * ban, mute, settings, and what the user on the receiving end sees (`chat.left` with its reason, `forbidden` with
 * `details.reason`).
 */
jest.setTimeout(30_000);

describe('client SDK: room moderation (roles, kick, ban, mute, settings)', () => {
  const clients = sdkSuite();

  /** A fresh room with an owner (made by an admin), a moderator (made by the owner) and a member, all joined. */
  async function moderatedRoom(): Promise<{
    room: string;
    ids: { owner: string; mod: string; member: string };
    owner: SdkClient;
    mod: SdkClient;
    member: SdkClient;
  }> {
    const room = `mod-${rid()}`;
    const ids = { owner: `olga${rid()}`, mod: `mo${rid()}`, member: `mem${rid()}` };
    const admin = await clients.connect(`admin${rid()}`, { roles: ['admin'] });
    await admin.setRole(room, ids.owner, 'owner');
    const owner = await clients.connect(ids.owner);
    const mod = await clients.connect(ids.mod);
    const member = await clients.connect(ids.member);
    for (const c of [owner, mod, member]) await c.join(room);
    const pushed = nextEvent(member, 'room.role', (r: { userId: string }) => r.userId === ids.mod);
    await owner.setRole(room, ids.mod, 'moderator');
    expect(await pushed).toEqual({ room, userId: ids.mod, role: 'moderator' });
    return { room, ids, owner, mod, member };
  }

  it('roomInfo() lists owners, moderators, settings and firstSeq; a member cannot change roles', async () => {
    const { room, ids, member } = await moderatedRoom();
    expect(await member.roomInfo(room)).toEqual({
      room,
      owners: [ids.owner],
      moderators: [ids.mod],
      settings: {},
      firstSeq: expect.any(Number),
    });
    expect(await refusal(member.setRole(room, ids.member, 'owner'))).toMatchObject({
      code: 'forbidden',
    });
  });

  it('kick() takes the user out with chat.left {reason: kicked}; they may join again', async () => {
    const { room, ids, mod, member } = await moderatedRoom();
    const left = nextEvent(member, 'chat.left');
    await mod.kick(room, ids.member);
    expect(await left).toEqual({ room, reason: 'kicked' });
    expect(await refusal(member.send(room, 'still here?'))).toMatchObject({ code: 'not_joined' });
    await expect(member.join(room)).resolves.toMatchObject({ room });
  });

  it('ban() takes the user out with chat.left {reason: banned} and refuses joins with details.reason banned until unban()', async () => {
    const { room, ids, mod, member } = await moderatedRoom();
    const left = nextEvent(member, 'chat.left');
    await mod.ban(room, ids.member, { reason: 'spam' });
    expect(await left).toEqual({ room, reason: 'banned' });
    const refused = await refusal(member.join(room));
    expect(refused).toBeInstanceOf(clients.sdk.HubbubError);
    expect(refused).toMatchObject({ code: 'forbidden', details: { reason: 'banned' } });
    expect(member.connected).toBe(true); // the connection stays open

    await mod.unban(room, ids.member);
    await expect(member.join(room)).resolves.toMatchObject({ room });
  });

  it('a moderator cannot ban the owner: forbidden, and the owner stays in the room', async () => {
    const { room, ids, mod, owner } = await moderatedRoom();
    expect(await refusal(mod.ban(room, ids.owner))).toMatchObject({ code: 'forbidden' });
    await expect(owner.send(room, 'still here')).resolves.toMatchObject({ room });
  });

  it('mute() refuses sends with details {reason: muted, until}; the user still reads; unmute() lifts it', async () => {
    const { room, ids, mod, member } = await moderatedRoom();
    const until = Date.now() + 60 * 60_000;
    await mod.mute(room, ids.member, { until });
    expect(await refusal(member.send(room, 'let me talk'))).toMatchObject({
      code: 'forbidden',
      details: { reason: 'muted', until },
    });
    const heard = nextEvent(member, 'chat.message', (m: { text: string }) => m.text === 'quiet');
    await mod.send(room, 'quiet');
    await heard;

    await mod.unmute(room, ids.member);
    await expect(member.send(room, 'thanks')).resolves.toMatchObject({ text: 'thanks' });
  });

  it('setRoomSettings() by the owner turns on slow mode: a member’s second message is rate_limited', async () => {
    const { room, owner, mod, member } = await moderatedRoom();
    expect(await refusal(mod.setRoomSettings(room, { slowModeMs: 60_000 }))).toMatchObject({
      code: 'forbidden',
    });
    expect(await owner.setRoomSettings(room, { slowModeMs: 60_000 })).toEqual({
      slowModeMs: 60_000,
    });
    await member.send(room, 'one');
    const limited = await refusal(member.send(room, 'two'));
    expect(limited).toMatchObject({ code: 'rate_limited' });
    expect(limited.details.retryAfterMs).toBeGreaterThan(0);
    expect((await member.roomInfo(room)).settings).toEqual({ slowModeMs: 60_000 });
  });
});
