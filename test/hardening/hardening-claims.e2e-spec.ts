/**
 * Issue 8, points 10 and 7: token claims (`exp` an integer before the year 3000, `sub` without control, bidi-override
 * or zero-width characters, `name` at most 128 characters; else 401) and claim globs matched in linear time (the
 * `rooms` glob `private:*a*a*a*a*b` against 120 `a`s stalled the server for 1.5 s).
 */
import { trackedClients } from '../support/clients';
import { cpuMsOf } from '../support/cpu';
import { hmacJwt, nowSec } from '../support/jwt';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';
import { handshakeStatus, TestClient } from '../support/ws-client';

describe('token claims and globs', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const { connect } = trackedClients(() => server);
  const status = (payload: Record<string, unknown>): Promise<number> =>
    handshakeStatus(server.wsUrl, { authorization: `Bearer ${hmacJwt(payload, TEST_SECRET)}` });
  const exp = (): number => nowSec() + 3600;

  it.each([
    ['1e308', 1e308],
    ['a fraction', nowSec() + 3600.5],
    ['the year 3000', Date.UTC(3000, 0, 1) / 1000],
    ['a string', String(nowSec() + 3600)],
  ])('refuses exp = %s with 401', async (_what, value) => {
    expect(await status({ sub: 'alice', exp: value })).toBe(401);
  });

  it('accepts exp just before the year 3000', async () => {
    expect(await status({ sub: 'alice', exp: Date.UTC(3000, 0, 1) / 1000 - 1 })).toBe(101);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['ESC', 'a\u001bb'],
    ['DEL', 'a\u007fb'],
    ['C1 NEL', 'a\u0085b'],
    ['right-to-left override', 'admin\u202etxt'],
    ['left-to-right isolate', 'a\u2066b'],
    ['zero-width space', 'ad\u200bmin'],
    ['zero-width joiner', 'a\u200db'],
    ['byte order mark', '\ufeffalice'],
  ])('refuses a sub with %s with 401', async (_what, sub) => {
    expect(await status({ sub, exp: exp() })).toBe(401);
  });

  it('accepts ordinary non-ASCII user ids', async () => {
    expect(await status({ sub: 'zoë-東京-😀', exp: exp() })).toBe(101);
  });

  it('refuses a name over 128 characters with 401, accepts 128', async () => {
    expect(await status({ sub: 'alice', exp: exp(), name: 'n'.repeat(129) })).toBe(401);
    expect(await status({ sub: 'alice', exp: exp(), name: 'n'.repeat(128) })).toBe(101);
  });

  it('matches a hostile rooms glob at once, and other clients stay responsive', async () => {
    const stars = `private:${'*a'.repeat(20)}*b`;
    const mallory = await connect('mallory', { rooms: ['private:*a*a*a*a*b', stars] });
    const other = await connect('other');
    const room = `private:${'a'.repeat(120)}`;
    const {
      value: [join, pong],
      cpuMs,
    } = await cpuMsOf(() =>
      Promise.all([mallory.request('chat.join', { room }), other.request('ping')]),
    );
    expect(join.data).toMatchObject({ code: 'forbidden' });
    expect(pong.event).toBe('pong');
    // The old regex spent seconds of CPU on this; CPU time does not grow with the machine's load, wall time does.
    expect(cpuMs).toBeLessThan(500);
    // The same globs still grant what they match.
    expect((await mallory.call('chat.join', { room: `private:${'a'.repeat(40)}b` })).seq).toBe(0);
  });

  it('keeps a refreshed token to the same rules', async () => {
    const alice: TestClient = await connect('alice');
    const bad = hmacJwt({ sub: 'alice', exp: 1e308 }, TEST_SECRET);
    expect((await alice.request('auth.refresh', { token: bad })).data).toMatchObject({
      code: 'forbidden',
    });
  });
});
