import { createHmac } from 'node:crypto';
import { loadConfig } from '../config/config';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A hand-made HS256 token, so that headers and claims can be anything. */
function token(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const signed = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(claims)}`;
  return `${signed}.${createHmac('sha256', SECRET).update(signed).digest('base64url')}`;
}
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('TokenVerifier (HS256)', () => {
  const verifier = new TokenVerifier(loadConfig({ JWT_SECRET: SECRET }));
  const refusal = (t: string) =>
    verifier.verify(t).then(
      () => 'accepted',
      (err: unknown) => (err instanceof InvalidTokenError ? err.message : `threw ${String(err)}`),
    );

  it('accepts a valid token and reads its principal', async () => {
    const principal = await verifier.verify(token({ sub: 'ann', exp: inAnHour(), roles: ['a'] }));
    expect(principal).toMatchObject({ userId: 'ann', roles: ['a'] });
  });

  it('says why a token is refused, without the token', async () => {
    expect(await refusal(token({ sub: 'ann', exp: 1 }))).toBe('token expired');
    expect(await refusal(token({ sub: 'ann', exp: inAnHour(), nbf: inAnHour() }))).toBe(
      'claim "nbf" check failed',
    );
    expect(await refusal(`${token({ sub: 'ann', exp: inAnHour() })}x`)).toBe('bad signature');
    expect(await refusal(token({ exp: inAnHour() }))).toMatch(/sub/);
    expect(await refusal('not.a.token')).toBe('malformed token');
    expect(await refusal(token({ sub: 'ann', exp: inAnHour() }, { alg: 'HS512' }))).toBe(
      'algorithm not allowed',
    );
  });

  it('refuses a token with a critical header it does not understand', async () => {
    const critical = token(
      { sub: 'ann', exp: inAnHour() },
      { crit: ['x-unknown'], 'x-unknown': 1 },
    );
    expect(await refusal(critical)).not.toBe('accepted');
  });

  it('signs development tokens that it verifies', async () => {
    const signed = await verifier.sign({ sub: 'dev', name: 'Dev' }, 60);
    expect(await verifier.verify(signed)).toMatchObject({ userId: 'dev', name: 'Dev' });
  });
});

describe('TokenVerifier with JWT_ISSUER and JWT_AUDIENCE', () => {
  const verifier = new TokenVerifier(
    loadConfig({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer', JWT_AUDIENCE: 'hubbub' }),
  );
  const base = () => ({ sub: 'ann', exp: inAnHour() });

  it('requires both claims, with the configured values', async () => {
    await expect(
      verifier.verify(token({ ...base(), iss: 'https://issuer', aud: 'hubbub' })),
    ).resolves.toMatchObject({ userId: 'ann' });
    for (const claims of [
      { aud: 'hubbub' },
      { iss: 'https://issuer' },
      { iss: 'x', aud: 'hubbub' },
    ]) {
      await expect(verifier.verify(token({ ...base(), ...claims }))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    }
  });
});
