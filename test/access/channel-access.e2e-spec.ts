/**
 * Who may read a channel, subscription tokens, the replaceable AccessPolicy, and what `auth.refresh` takes back
 * (CONTRACT sections 3, 4 and 5, "new: channel-access").
 */
import { Injectable } from '@nestjs/common';
import { AccessPolicy } from '../../src/access/access-policy';
import type { Principal } from '../../src/auth/principal';
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { hmacJwt, nowSec } from '../support/jwt';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';
import { handshakeStatus, type TestClient } from '../support/ws-client';

const expectForbidden = async (client: TestClient, event: string, data: unknown) => {
  const reply = await client.request(event, data);
  expect(reply.event).toBe('error');
  expect(reply.data.code).toBe('forbidden');
};

describe('channel access', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());
  const { connect } = trackedClients(() => server);

  /** The client receives live publications of the channel: proves the subscription exists. */
  const receives = async (client: TestClient, channel: string) => {
    const p = await connect(`pub-${rid()}`, { roles: ['admin'] });
    const { offset } = await p.call('channel.publish', { channel, data: 'probe' });
    const push = await client.next(
      'channel.message',
      5000,
      (f) => f.data.channel === channel && f.data.offset === offset,
    );
    expect(push.data).toMatchObject({ data: 'probe' });
  };

  describe('private: channels', () => {
    it('are forbidden without a subscribe claim, and the refused subscribe changes nothing', async () => {
      const channel = `private:team-${rid()}`;
      const c = await connect(`u-${rid()}`);
      await expectForbidden(c, 'channel.subscribe', { channel });
      const p = await connect(`pub-${rid()}`, { roles: ['admin'] });
      const mark = c.frames.length;
      await p.call('channel.publish', { channel, data: 'secret' });
      await expectNoPush(c, mark, 'channel.message');
    });

    it('are forbidden when no subscribe glob matches (rooms and publish claims do not count)', async () => {
      const channel = `private:team-${rid()}`;
      const c = await connect(`u-${rid()}`, {
        subscribe: ['private:other-*'],
        rooms: ['private:*'],
        publish: ['private:*'],
      });
      await expectForbidden(c, 'channel.subscribe', { channel });
    });

    it('are open to a matching subscribe glob', async () => {
      const channel = `private:team-${rid()}`;
      const c = await connect(`u-${rid()}`, { subscribe: ['private:team-*'] });
      expect(await c.call('channel.subscribe', { channel })).toMatchObject({ channel, offset: 0 });
      await receives(c, channel);
    });

    it('are open to admin', async () => {
      const channel = `private:ops-${rid()}`;
      const c = await connect(`admin-${rid()}`, { roles: ['admin'] });
      await c.call('channel.subscribe', { channel });
      await receives(c, channel);
    });

    it('other channels stay open to every authenticated user', async () => {
      const channel = `news.${rid()}`;
      const c = await connect(`u-${rid()}`);
      await c.call('channel.subscribe', { channel });
      await receives(c, channel);
    });

    it('a subscribe claim that is not an array of strings refuses the handshake with 401', async () => {
      const token = hmacJwt({ sub: 'x', exp: nowSec() + 60, subscribe: 'private:*' }, TEST_SECRET);
      expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${token}` })).toBe(401);
    });
  });

  describe('user-limited channels (name#id,id)', () => {
    it('may be subscribed to by each listed user only', async () => {
      const [a, b] = [`a${rid()}`, `b${rid()}`];
      const channel = `dialog.${rid()}#${a},${b}`;
      const alice = await connect(a);
      const bob = await connect(b);
      const carol = await connect(`c${rid()}`);
      await alice.call('channel.subscribe', { channel });
      await bob.call('channel.subscribe', { channel });
      await expectForbidden(carol, 'channel.subscribe', { channel });
      await receives(alice, channel);
      await receives(bob, channel);
    });

    it('is refused to a user whose id only starts like a listed one', async () => {
      const a = `a${rid()}`;
      const c = await connect(`${a}x`);
      await expectForbidden(c, 'channel.subscribe', { channel: `dialog#${a}` });
    });

    it('a private: user-limited channel needs both the listed user and a grant', async () => {
      const a = `a${rid()}`;
      const channel = `private:inbox#${a}`;
      await expectForbidden(await connect(a), 'channel.subscribe', { channel });
      const granted = await connect(a, { subscribe: ['private:inbox*'] });
      await granted.call('channel.subscribe', { channel });
      await expectForbidden(
        await connect(`o${rid()}`, { subscribe: ['private:*'] }),
        'channel.subscribe',
        {
          channel,
        },
      );
    });

    it('publishing to one still needs a publish right, and listed users receive it', async () => {
      const a = `a${rid()}`;
      const channel = `notify#${a}`;
      const alice = await connect(a);
      await alice.call('channel.subscribe', { channel });
      await expectForbidden(alice, 'channel.publish', { channel, data: 1 });
      await receives(alice, channel);
    });

    it('refuses malformed user limits as validation_failed', async () => {
      const c = await connect(`u-${rid()}`);
      for (const channel of ['news#', 'news#a,', '#a', 'news#a#b']) {
        const reply = await c.request('channel.subscribe', { channel });
        expect(reply.data).toMatchObject({ code: 'validation_failed' });
      }
      const room = await c.request('chat.join', { room: 'lobby#a' });
      expect(room.data).toMatchObject({ code: 'validation_failed' });
    });
  });

  describe('subscription tokens', () => {
    const subToken = (claims: Record<string, unknown>, secret = TEST_SECRET) =>
      hmacJwt({ exp: nowSec() + 60, ...claims }, secret);

    it('grant exactly one private: channel to the user they name', async () => {
      const user = `u-${rid()}`;
      const channel = `private:doc-${rid()}`;
      const c = await connect(user);
      const token = subToken({ sub: user, channel });
      expect(await c.call('channel.subscribe', { channel, token })).toMatchObject({ channel });
      await receives(c, channel);
      await expectForbidden(c, 'channel.subscribe', { channel: `${channel}-2`, token });
    });

    it.each([
      [
        'for another user',
        (user: string, channel: string) => subToken({ sub: `${user}-x`, channel }),
      ],
      [
        'for another channel',
        (user: string, channel: string) => subToken({ sub: user, channel: `${channel}x` }),
      ],
      ['without a channel claim', (user: string) => subToken({ sub: user })],
      [
        'expired',
        (user: string, channel: string) => subToken({ sub: user, channel, exp: nowSec() - 10 }),
      ],
      [
        'without exp',
        (user: string, channel: string) => hmacJwt({ sub: user, channel }, TEST_SECRET),
      ],
      [
        'signed with another key',
        (user: string, channel: string) => subToken({ sub: user, channel }, `${TEST_SECRET}-other`),
      ],
      ['malformed', () => 'not.a.jwt'],
    ])('are refused as forbidden when %s', async (_what, make) => {
      const user = `u-${rid()}`;
      const channel = `private:doc-${rid()}`;
      const c = await connect(user);
      await expectForbidden(c, 'channel.subscribe', { channel, token: make(user, channel) });
    });

    it('do not open a channel limited to other users', async () => {
      const user = `u-${rid()}`;
      const channel = `dialog#someone-else`;
      const c = await connect(user);
      await expectForbidden(c, 'channel.subscribe', {
        channel,
        token: subToken({ sub: user, channel }),
      });
    });
  });

  describe('auth.refresh re-checks private: rooms and channels granted by claims', () => {
    it('leaves what the new claims no longer grant, with chat.left / channel.unsubscribed {reason: "forbidden"}', async () => {
      const user = `u-${rid()}`;
      const id = rid();
      const [room, keptRoom] = [`private:a-${id}`, `private:b-${id}`];
      const [channel, keptChannel, tokenChannel] = [
        `private:a-${id}`,
        `private:b-${id}`,
        `private:t-${id}`,
      ];
      // The token channel is not among the claims' globs: the claims never granted it.
      const before = { rooms: ['private:*'], subscribe: ['private:a-*', 'private:b-*'] };
      const c = await connect(user, before);
      const other = await connect(`o-${rid()}`, { rooms: ['private:*'] });
      await other.call('chat.join', { room });
      for (const r of [room, keptRoom]) await c.call('chat.join', { room: r });
      for (const ch of [channel, keptChannel]) await c.call('channel.subscribe', { channel: ch });
      await c.call('channel.subscribe', {
        channel: tokenChannel,
        token: hmacJwt({ sub: user, channel: tokenChannel, exp: nowSec() + 60 }, TEST_SECRET),
      });
      await c.call('chat.join', { room: 'lobby' });

      const after = { rooms: [`private:b-*`], subscribe: [`private:b-*`] };
      const refreshed = await c.call('auth.refresh', { token: await server.token(user, after) });
      expect(refreshed).toEqual({ exp: expect.any(Number) });
      expect((await c.next('chat.left')).data).toEqual({ room, reason: 'forbidden' });
      expect((await c.next('channel.unsubscribed')).data).toEqual({ channel, reason: 'forbidden' });
      // The others see the user leave the room.
      expect((await other.next('presence.leave')).data).toEqual({
        room,
        userId: user,
        v: expect.any(Number),
      });

      // Left for real: sending is not_joined, publications no longer arrive.
      const send = await c.request('chat.send', { room, text: 'still here?' });
      expect(send.data.code).toBe('not_joined');
      const mark = c.frames.length;
      const p = await connect(`pub-${rid()}`, { roles: ['admin'] });
      await p.call('channel.publish', { channel, data: 'gone' });
      await expectNoPush(c, mark, 'channel.message', (f) => f.data.channel === channel);
      // What is still granted, or was granted by a token, stays.
      await c.call('chat.send', { room: keptRoom, text: 'kept' });
      await receives(c, keptChannel);
      await receives(c, tokenChannel);
      expect(
        c.frames.filter((f) => f.event === 'chat.left' || f.event === 'channel.unsubscribed'),
      ).toHaveLength(2);
    });

    it('leaves nothing when the new claims still grant everything', async () => {
      const user = `u-${rid()}`;
      const claims = { rooms: ['private:*'], subscribe: ['private:*'] };
      const c = await connect(user, claims);
      await c.call('chat.join', { room: `private:r-${rid()}` });
      await c.call('channel.subscribe', { channel: `private:c-${rid()}` });
      const mark = c.frames.length;
      await c.call('auth.refresh', { token: await server.token(user, claims) });
      await expectNoPush(c, mark, 'chat.left');
      await expectNoPush(c, mark, 'channel.unsubscribed');
    });

    it('an admin that loses the role leaves private: channels it held by the role', async () => {
      const user = `u-${rid()}`;
      const channel = `private:ops-${rid()}`;
      const c = await connect(user, { roles: ['admin'] });
      await c.call('channel.subscribe', { channel });
      await c.call('auth.refresh', { token: await server.token(user) });
      expect((await c.next('channel.unsubscribed')).data).toEqual({ channel, reason: 'forbidden' });
    });
  });
});

/** A team's own policy, async, replacing the default through DI. */
@Injectable()
class VipPolicy extends AccessPolicy {
  readonly asked: string[] = [];

  async canJoin(principal: Principal, room: string): Promise<boolean> {
    this.asked.push(`join ${room}`);
    await new Promise((r) => setImmediate(r));
    return principal.userId.startsWith('vip') || !room.startsWith('vip');
  }

  canSubscribe(principal: Principal, channel: string): Promise<boolean> {
    this.asked.push(`subscribe ${channel}`);
    return Promise.resolve(principal.userId.startsWith('vip') || !channel.startsWith('vip'));
  }

  canPublish(principal: Principal, channel: string, data: unknown): boolean {
    this.asked.push(`publish ${channel}`);
    return principal.userId.startsWith('vip') && data !== 'spam';
  }
}

describe('a team-provided AccessPolicy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, { providers: [{ provide: AccessPolicy, useClass: VipPolicy }] });
  });
  afterAll(() => server.close());
  const { connect } = trackedClients(() => server);

  it('is consulted for every join, history read, subscribe and publish, and its answers hold', async () => {
    const policy = server.app.get<AccessPolicy, VipPolicy>(AccessPolicy);
    const id = rid();
    const vip = await connect(`vip-${id}`);
    const pleb = await connect(`pleb-${id}`);
    await vip.call('chat.join', { room: `vip.lounge-${id}` });
    await expectForbidden(pleb, 'chat.join', { room: `vip.lounge-${id}` });
    await expectForbidden(pleb, 'chat.history', { room: `vip.lounge-${id}` });
    await vip.call('channel.subscribe', { channel: `vip.feed-${id}` });
    await expectForbidden(pleb, 'channel.subscribe', { channel: `vip.feed-${id}` });
    expect(await vip.call('channel.publish', { channel: `vip.feed-${id}`, data: 'hi' })).toEqual({
      offset: 1,
    });
    await expectForbidden(vip, 'channel.publish', { channel: `vip.feed-${id}`, data: 'spam' });
    await expectForbidden(pleb, 'channel.publish', { channel: `open-${id}`, data: 'x' });
    // No claim needed for what the policy grants (the default would refuse publishing without one).
    expect(policy.asked.filter((a) => a.endsWith(id))).toEqual([
      `join vip.lounge-${id}`,
      `join vip.lounge-${id}`,
      `join vip.lounge-${id}`,
      `subscribe vip.feed-${id}`,
      `subscribe vip.feed-${id}`,
      `publish vip.feed-${id}`,
      `publish vip.feed-${id}`,
      `publish open-${id}`,
    ]);
  });
});
