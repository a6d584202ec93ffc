/**
 * Subscription tokens end (CONTRACT section 5, "new: fault-correctness"): a subscription made with a `token` ends at
 * the token's `exp` with a push `channel.unsubscribed {channel, reason: "token_expired"}`, unless `channel.refresh
 * {channel, token}` brought a later one before; and a subscription token never opens a connection (401).
 */
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { hmacJwt, nowSec } from '../support/jwt';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';
import { handshakeStatus, type TestClient } from '../support/ws-client';

const subToken = (claims: Record<string, unknown>): string => hmacJwt(claims, TEST_SECRET);

describe('subscription tokens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());
  const { connect } = trackedClients(() => server);

  /** A publication reaches the client: the subscription exists. */
  const receives = async (client: TestClient, channel: string): Promise<void> => {
    const p = await connect(`pub-${rid()}`, { roles: ['admin'] });
    const { offset } = await p.call('channel.publish', { channel, data: 'probe' });
    await client.next(
      'channel.message',
      5000,
      (f) => f.data.channel === channel && f.data.offset === offset,
    );
  };

  it('are refused as connection tokens at the handshake (401), and by auth.refresh', async () => {
    const user = `u-${rid()}`;
    const token = subToken({ sub: user, channel: `private:c-${rid()}`, exp: nowSec() + 60 });
    expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${token}` })).toBe(401);
    expect(await handshakeStatus(`${server.wsUrl}?access_token=${token}`)).toBe(401);
    const c = await connect(user);
    const reply = await c.request('auth.refresh', { token });
    expect(reply.data.code).toBe('forbidden');
  });

  it('end a subscription at the token exp: channel.unsubscribed {reason: "token_expired"}, then nothing', async () => {
    const user = `u-${rid()}`;
    const channel = `private:doc-${rid()}`;
    const c = await connect(user);
    const exp = nowSec() + 3;
    await c.call('channel.subscribe', { channel, token: subToken({ sub: user, channel, exp }) });
    await receives(c, channel);
    const push = await c.next('channel.unsubscribed', 8000);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(push.data).toEqual({ channel, reason: 'token_expired' });
    // Unsubscribed for real: publications no longer arrive; the connection stays open.
    const mark = c.frames.length;
    const p = await connect(`pub-${rid()}`, { roles: ['admin'] });
    await p.call('channel.publish', { channel, data: 'after' });
    await expectNoPush(c, mark, 'channel.message', (f) => f.data.channel === channel);
  });

  it('channel.refresh with a later token moves the end: no unsubscribe before the later exp', async () => {
    const user = `u-${rid()}`;
    const channel = `private:doc-${rid()}`;
    const c = await connect(user);
    const first = nowSec() + 3;
    await c.call('channel.subscribe', {
      channel,
      token: subToken({ sub: user, channel, exp: first }),
    });
    const later = first + 2;
    expect(
      await c.call('channel.refresh', {
        channel,
        token: subToken({ sub: user, channel, exp: later }),
      }),
    ).toEqual({ channel, exp: later });
    // The only end comes at the later exp: had the first one ended it, this push would come 2 s sooner.
    const push = await c.next('channel.unsubscribed', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(later * 1000);
    expect(push.data).toEqual({ channel, reason: 'token_expired' });
    expect(c.frames.filter((f) => f.event === 'channel.unsubscribed')).toHaveLength(1);
  });

  it('channel.refresh refuses a token for another channel or user (forbidden), a channel not subscribed (not_found)', async () => {
    const user = `u-${rid()}`;
    const channel = `private:doc-${rid()}`;
    const c = await connect(user);
    const exp = nowSec() + 60;
    await c.call('channel.subscribe', { channel, token: subToken({ sub: user, channel, exp }) });
    const other = `private:other-${rid()}`;
    for (const token of [
      subToken({ sub: user, channel: other, exp }),
      subToken({ sub: `x-${rid()}`, channel, exp }),
      subToken({ sub: user, channel, exp: nowSec() - 1 }),
    ]) {
      expect((await c.request('channel.refresh', { channel, token })).data.code).toBe('forbidden');
    }
    const notSubscribed = await c.request('channel.refresh', {
      channel: other,
      token: subToken({ sub: user, channel: other, exp }),
    });
    expect(notSubscribed.data.code).toBe('not_found');
    const invalid = await c.request('channel.refresh', { channel });
    expect(invalid.data.code).toBe('validation_failed');
    await receives(c, channel);
  });

  it('a subscription the claims grant does not end with a token', async () => {
    const user = `u-${rid()}`;
    const channel = `private:doc-${rid()}`;
    const c = await connect(user, { subscribe: ['private:*'] });
    const shortExp = nowSec() + 2;
    const short = subToken({ sub: user, channel, exp: shortExp });
    await c.call('channel.subscribe', { channel });
    expect(await c.call('channel.refresh', { channel, token: short })).toMatchObject({ channel });
    // A token subscription that ends proves the sweep ran past the short exp; the claims' one is still there.
    const tokenChannel = `private:t-${rid()}`;
    await c.call('channel.subscribe', {
      channel: tokenChannel,
      token: subToken({ sub: user, channel: tokenChannel, exp: shortExp + 1 }),
    });
    expect((await c.next('channel.unsubscribed', 8000)).data).toEqual({
      channel: tokenChannel,
      reason: 'token_expired',
    });
    await receives(c, channel);
    expect(c.frames.filter((f) => f.event === 'channel.unsubscribed')).toHaveLength(1);
  });
});
