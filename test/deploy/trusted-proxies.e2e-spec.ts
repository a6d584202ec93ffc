/**
 * Issue 18: TRUSTED_PROXIES. From a trusted peer, the right-most X-Forwarded-For address that is not itself trusted
 * is the client's address, for the per-address throttling; from any other peer the header is ignored.
 */
import { DEV_TOKEN_LIMIT_PER_MIN } from '../../src/http/throttle.module';
import { startServer, type TestServer } from '../support/server';

async function devToken(server: TestServer, xff?: string): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (xff !== undefined) headers['x-forwarded-for'] = xff;
  const res = await fetch(`${server.url}/dev/token`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ userId: 'u' }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function spend(server: TestServer, xff?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < DEV_TOKEN_LIMIT_PER_MIN; i++) statuses.push(await devToken(server, xff));
  return statuses;
}

describe('TRUSTED_PROXIES', () => {
  describe('with the test peer trusted (as a CIDR)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.0/8' });
    });
    afterAll(async () => {
      await server.close();
    });

    it('throttles by the address X-Forwarded-For names: one client spent, another not', async () => {
      expect(await spend(server, '203.0.113.1')).toEqual(Array(DEV_TOKEN_LIMIT_PER_MIN).fill(201));
      expect(await devToken(server, '203.0.113.1')).toBe(429);
      // A forged left-hand entry does not help: the right-most untrusted address is still 203.0.113.1.
      expect(await devToken(server, '198.51.100.1, 203.0.113.1')).toBe(429);
      // Trusted hops on the right are skipped.
      expect(await devToken(server, '203.0.113.1, 10.1.1.1')).toBe(429);
      expect(await devToken(server, '203.0.113.2')).toBe(201);
      expect(await devToken(server, '203.0.113.1, 203.0.113.3')).toBe(201);
    });
  });

  describe('from a peer that is not trusted', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ TRUSTED_PROXIES: '10.0.0.0/8' });
    });
    afterAll(async () => {
      await server.close();
    });

    it('ignores X-Forwarded-For: the budget is the peer’s whatever the header says', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < DEV_TOKEN_LIMIT_PER_MIN; i++) {
        statuses.push(await devToken(server, `203.0.113.${i + 1}`));
      }
      expect(statuses).toEqual(Array(DEV_TOKEN_LIMIT_PER_MIN).fill(201));
      expect(await devToken(server, '198.51.100.77')).toBe(429);
      expect(await devToken(server)).toBe(429);
    });
  });

  it('refuses a value that is not a list of addresses or CIDRs', async () => {
    await expect(startServer({ TRUSTED_PROXIES: '10.0.0.0/33' })).rejects.toThrow(
      /TRUSTED_PROXIES/,
    );
    await expect(startServer({ TRUSTED_PROXIES: 'proxy.local' })).rejects.toThrow(
      /TRUSTED_PROXIES/,
    );
  });
});
