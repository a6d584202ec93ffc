import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { b64url, hmacJwt, nowSec, unsignedJwt } from '../support/jwt';
import { startServer, TEST_SECRET, type TestServer } from '../support/server';
import { handshakeStatus, TestClient } from '../support/ws-client';

/*
 * Tokens built by hand (./support/jwt), so the tests can produce exactly the broken tokens a server must refuse
 * (no `exp`, `alg: none`, algorithm confusion, …) without going through the server's own signer.
 */
const hs256 = (payload: Record<string, unknown>, secret: string | Buffer = TEST_SECRET): string =>
  hmacJwt(payload, secret);

function asymmetric(
  alg: 'RS256' | 'ES256',
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = unsignedJwt({ alg, typ: 'JWT' }, payload);
  const signature = cryptoSign('sha256', Buffer.from(input), {
    key,
    // JWS wants ECDSA signatures as raw r||s, not DER.
    ...(alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

const valid = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'alice',
  iat: nowSec(),
  exp: nowSec() + 3600,
  ...extra,
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/**
 * Connects, retrying while the handshake is answered 429: the server frees a quota slot when it sees the close,
 * which may be just after the client did. Each attempt is a real round trip; nothing sleeps.
 */
async function connectEventually(url: string, token: string, attempts = 50): Promise<TestClient> {
  for (let i = 1; ; i++) {
    try {
      return await TestClient.connect(url, token);
    } catch (err) {
      if (i >= attempts || !String(err).includes('HTTP 429')) throw err;
    }
  }
}

describe('handshake with an HS256 secret', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('accepts a valid bearer token and pushes welcome {clientId, userId, node, heartbeatMs, serverTime} as the first frame', async () => {
    const before = Date.now();
    const client = await TestClient.connect(server.wsUrl, await server.token('alice'));
    try {
      expect(client.frames[0]).toEqual({
        event: 'welcome',
        data: {
          clientId: expect.any(String),
          userId: 'alice',
          node: server.config.nodeId,
          heartbeatMs: server.config.heartbeatIntervalMs,
          serverTime: expect.any(Number),
        },
      });
      expect(client.frames[0].id).toBeUndefined();
      expect(client.frames[0].data.serverTime).toBeGreaterThanOrEqual(before - 5);
      expect(client.frames[0].data.serverTime).toBeLessThanOrEqual(Date.now() + 5);
    } finally {
      await client.close();
    }
  });

  it('gives each connection its own clientId', async () => {
    const token = await server.token('alice');
    const a = await TestClient.connect(server.wsUrl, token);
    const b = await TestClient.connect(server.wsUrl, token);
    try {
      expect(a.frames[0].data.clientId).not.toBe(b.frames[0].data.clientId);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('accepts the token in the access_token query parameter', async () => {
    const token = await server.token('bob');
    const client = await TestClient.connect(
      `${server.wsUrl}?access_token=${encodeURIComponent(token)}`,
    );
    try {
      expect(client.frames[0].data.userId).toBe('bob');
    } finally {
      await client.close();
    }
  });

  it('accepts a hand-built HS256 token signed with the secret', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid())))).toBe(101);
  });

  it('refuses a handshake without a token with 401', async () => {
    expect(await handshakeStatus(server.wsUrl)).toBe(401);
  });

  it('refuses an empty access_token query parameter with 401', async () => {
    expect(await handshakeStatus(`${server.wsUrl}?access_token=`)).toBe(401);
  });

  it('refuses a non-Bearer Authorization header with 401', async () => {
    expect(
      await handshakeStatus(server.wsUrl, { authorization: `Basic ${b64url('alice:pw')}` }),
    ).toBe(401);
  });

  it('refuses a malformed token with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer('not.a.jwt'))).toBe(401);
    expect(await handshakeStatus(server.wsUrl, bearer('garbage'))).toBe(401);
  });

  it('refuses a malformed token in the query parameter with 401', async () => {
    expect(await handshakeStatus(`${server.wsUrl}?access_token=nope`)).toBe(401);
  });

  it('refuses a token with a bad signature with 401', async () => {
    const token = hs256(valid(), 'another-secret-that-is-also-32-bytes-long!!');
    expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(401);
  });

  it('refuses a token whose payload was altered after signing with 401', async () => {
    const [header, , signature] = hs256(valid()).split('.');
    const forged = `${header}.${b64url(JSON.stringify(valid({ sub: 'mallory' })))}.${signature}`;
    expect(await handshakeStatus(server.wsUrl, bearer(forged))).toBe(401);
  });

  it('refuses an expired token with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(await server.token('alice', {}, -10)))).toBe(
      401,
    );
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ exp: nowSec() - 1 }))))).toBe(
      401,
    );
  });

  it('refuses a token without exp with 401', async () => {
    const { exp: _exp, ...noExp } = valid();
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(noExp)))).toBe(401);
  });

  it('refuses a token with a non-numeric exp with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ exp: 'never' }))))).toBe(401);
  });

  it('refuses an alg:none token with 401', async () => {
    const none = `${unsignedJwt({ alg: 'none', typ: 'JWT' }, valid())}.`;
    expect(await handshakeStatus(server.wsUrl, bearer(none))).toBe(401);
    // Same, with the HMAC of the real secret left in place as the "signature".
    const withSig = `${unsignedJwt({ alg: 'none', typ: 'JWT' }, valid())}.${hs256(valid()).split('.')[2]}`;
    expect(await handshakeStatus(server.wsUrl, bearer(withSig))).toBe(401);
  });

  it('refuses a token signed with another algorithm than the configured HS256 with 401', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(
      await handshakeStatus(server.wsUrl, bearer(asymmetric('RS256', valid(), privateKey))),
    ).toBe(401);
    const hs512 = hmacJwt(valid(), TEST_SECRET, 'HS512');
    expect(await handshakeStatus(server.wsUrl, bearer(hs512))).toBe(401);
  });

  it('refuses a not-yet-valid token (nbf in the future) with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ nbf: nowSec() + 600 }))))).toBe(
      401,
    );
  });

  it('refuses a token without sub with 401', async () => {
    const { sub: _sub, ...noSub } = valid();
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(noSub)))).toBe(401);
  });

  it('refuses an empty or non-string sub with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ sub: '' }))))).toBe(401);
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ sub: 42 }))))).toBe(401);
  });

  it('refuses a sub longer than 128 characters with 401 and accepts one of exactly 128', async () => {
    expect(
      await handshakeStatus(server.wsUrl, bearer(hs256(valid({ sub: 'u'.repeat(129) })))),
    ).toBe(401);
    expect(
      await handshakeStatus(server.wsUrl, bearer(hs256(valid({ sub: 'u'.repeat(128) })))),
    ).toBe(101);
  });

  it('refuses claims of the wrong type (roles not a string array) with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ roles: 'admin' }))))).toBe(401);
  });

  it('refuses a path other than /ws with 404', async () => {
    const token = await server.token('alice');
    expect(await handshakeStatus(`ws://127.0.0.1:${server.port}/other`, bearer(token))).toBe(404);
    expect(await handshakeStatus(`ws://127.0.0.1:${server.port}/ws/extra`, bearer(token))).toBe(
      404,
    );
  });
});

describe('handshake with JWT_ISSUER and JWT_AUDIENCE', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'hubbub' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('accepts a token with the right iss and aud', async () => {
    const token = hs256(valid({ iss: 'https://issuer.example', aud: 'hubbub' }));
    expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(101);
  });

  it('accepts an aud array that contains the audience', async () => {
    const token = hs256(valid({ iss: 'https://issuer.example', aud: ['other', 'hubbub'] }));
    expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(101);
  });

  it('refuses a token with a wrong iss with 401', async () => {
    const token = hs256(valid({ iss: 'https://evil.example', aud: 'hubbub' }));
    expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(401);
  });

  it('refuses a token with a wrong aud with 401', async () => {
    const token = hs256(valid({ iss: 'https://issuer.example', aud: 'someone-else' }));
    expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(401);
  });

  it('refuses a token without iss or aud with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid({ aud: 'hubbub' }))))).toBe(401);
    expect(
      await handshakeStatus(server.wsUrl, bearer(hs256(valid({ iss: 'https://issuer.example' })))),
    ).toBe(401);
  });
});

describe.each([
  ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
] as const)('handshake with a %s JWT_PUBLIC_KEY', (alg, makeKeys) => {
  const { publicKey, privateKey } = makeKeys();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ JWT_SECRET: '', JWT_PUBLIC_KEY: publicPem });
  });
  afterAll(async () => {
    await server.close();
  });

  it(`accepts an ${alg} token signed with the private key and pushes welcome`, async () => {
    const client = await TestClient.connect(
      server.wsUrl,
      asymmetric(alg, valid({ sub: 'carol' }), privateKey),
    );
    try {
      expect(client.frames[0]).toMatchObject({ event: 'welcome', data: { userId: 'carol' } });
    } finally {
      await client.close();
    }
  });

  it(`refuses an ${alg} token signed with another private key with 401`, async () => {
    const other = makeKeys().privateKey;
    expect(await handshakeStatus(server.wsUrl, bearer(asymmetric(alg, valid(), other)))).toBe(401);
  });

  it('refuses an HS256 token signed with the public key PEM as HMAC secret with 401 (algorithm confusion)', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid(), publicPem)))).toBe(401);
    const der = publicKey.export({ type: 'spki', format: 'der' });
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid(), der)))).toBe(401);
  });

  it('refuses an HS256 token signed with the test secret with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, bearer(hs256(valid())))).toBe(401);
  });

  it('refuses an alg:none token with 401', async () => {
    expect(
      await handshakeStatus(server.wsUrl, bearer(`${unsignedJwt({ alg: 'none' }, valid())}.`)),
    ).toBe(401);
  });

  it(`refuses an expired ${alg} token with 401`, async () => {
    const token = asymmetric(alg, valid({ exp: nowSec() - 5 }), privateKey);
    expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(401);
  });
});

describe('handshake with a JWT_PUBLIC_KEY written on one line with \\n escapes', () => {
  it('accepts an RS256 token', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString()
      .trim()
      .replace(/\n/g, '\\n');
    const server = await startServer({ JWT_SECRET: '', JWT_PUBLIC_KEY: pem });
    try {
      expect(
        await handshakeStatus(server.wsUrl, bearer(asymmetric('RS256', valid(), privateKey))),
      ).toBe(101);
    } finally {
      await server.close();
    }
  });
});

describe('handshake with ALLOWED_ORIGINS', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startServer({ ALLOWED_ORIGINS: 'https://app.example, https://admin.example' });
    token = await server.token('alice');
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses an Origin that is not listed with 403', async () => {
    expect(
      await handshakeStatus(server.wsUrl, { ...bearer(token), origin: 'https://evil.example' }),
    ).toBe(403);
  });

  it('compares origins exactly (scheme, host and port)', async () => {
    const h = bearer(token);
    expect(await handshakeStatus(server.wsUrl, { ...h, origin: 'http://app.example' })).toBe(403);
    expect(await handshakeStatus(server.wsUrl, { ...h, origin: 'https://app.example:8443' })).toBe(
      403,
    );
    expect(
      await handshakeStatus(server.wsUrl, { ...h, origin: 'https://app.example.evil.example' }),
    ).toBe(403);
  });

  it('refuses a disallowed Origin with 403 before looking at the token', async () => {
    expect(await handshakeStatus(server.wsUrl, { origin: 'https://evil.example' })).toBe(403);
  });

  it('accepts each listed Origin', async () => {
    expect(
      await handshakeStatus(server.wsUrl, { ...bearer(token), origin: 'https://app.example' }),
    ).toBe(101);
    expect(
      await handshakeStatus(server.wsUrl, { ...bearer(token), origin: 'https://admin.example' }),
    ).toBe(101);
  });

  it('accepts a handshake without an Origin header', async () => {
    const client = await TestClient.connect(server.wsUrl, token);
    try {
      expect(client.frames[0].event).toBe('welcome');
    } finally {
      await client.close();
    }
  });

  it('still refuses a listed Origin without a token with 401', async () => {
    expect(await handshakeStatus(server.wsUrl, { origin: 'https://app.example' })).toBe(401);
  });
});

describe('handshake with MAX_CONNECTIONS_PER_USER=2', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ MAX_CONNECTIONS_PER_USER: '2' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a third connection of the same sub with 429 and accepts one again after a close', async () => {
    const token = await server.token('dave');
    const a = await TestClient.connect(server.wsUrl, token);
    const b = await TestClient.connect(server.wsUrl, token);
    try {
      expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(429);
      // Another token for the same sub counts against the same quota.
      expect(
        await handshakeStatus(server.wsUrl, bearer(await server.token('dave', { name: 'D' }))),
      ).toBe(429);
      // Other users are not affected.
      expect(await handshakeStatus(server.wsUrl, bearer(await server.token('erin')))).toBe(101);

      await a.close();
      const c = await connectEventually(server.wsUrl, token);
      expect(await handshakeStatus(server.wsUrl, bearer(token))).toBe(429);
      await c.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('does not count refused handshakes against the quota', async () => {
    const token = await server.token('frank');
    for (let i = 0; i < 3; i++) {
      expect(await handshakeStatus(`${server.wsUrl}x`, bearer(token))).toBe(404);
      expect(
        await handshakeStatus(server.wsUrl, bearer(hs256(valid({ sub: 'frank', exp: 1 })))),
      ).toBe(401);
    }
    const a = await TestClient.connect(server.wsUrl, token);
    const b = await TestClient.connect(server.wsUrl, token);
    await Promise.all([a.close(), b.close()]);
  });
});
