import {
  buildServerOnce,
  removeBuild,
  spawnServer,
  type ChildServer,
} from '../support/child-server';
import { hmacJwt, nowSec } from '../support/jwt';
import { signToken } from '../support/tokens';
import { handshakeStatus, TestClient } from '../support/ws-client';

/** Tokens travel in headers, query strings and frames; none of them may end up in a log line, at any level. */
describe('log secrecy', () => {
  let server: ChildServer;

  beforeAll(async () => {
    await buildServerOnce();
    server = await spawnServer({ LOG_LEVEL: 'trace' });
  }, 60_000);

  afterAll(() => {
    server.kill('SIGKILL');
    removeBuild();
  });

  it('writes no token, accepted or refused, to stdout or stderr even at trace level', async () => {
    const viaHeader = signToken('header-user');
    const viaQuery = signToken('query-user');
    const refreshed = signToken('header-user', {}, 7200);
    const badSignature = hmacJwt(
      { sub: 'mallory', exp: nowSec() + 60 },
      'not-the-server-secret-at-all-0123',
    );
    const expired = signToken('late-user', {}, -60);

    const a = await TestClient.connect(server.wsUrl, viaHeader);
    const b = await TestClient.connect(`${server.wsUrl}?access_token=${viaQuery}`);
    await a.call('auth.refresh', { token: refreshed });
    await a.request('auth.refresh', { token: badSignature });
    expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${badSignature}` })).toBe(
      401,
    );
    expect(await handshakeStatus(`${server.wsUrl}?access_token=${expired}`)).toBe(401);
    await a.close();
    await b.close();

    server.kill('SIGTERM');
    const exit = await server.waitForExit(15_000);
    expect(exit.code).toBe(0);
    const output = [...server.stdout, ...server.stderr].join('\n');
    expect(output.length).toBeGreaterThan(0);
    for (const token of [viaHeader, viaQuery, refreshed, badSignature, expired]) {
      // The signature alone is the secret part; the payload is only base64 of the claims.
      expect(output).not.toContain(token.split('.')[2]);
    }
  });
});
