import { serverPings } from '../support/clients';
import { jwtClaims } from '../support/jwt';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

const HEARTBEAT_MS = 200;

/** Waits until the wall clock passes `at` (ms since epoch). Used only to prove that something did NOT happen. */
function until(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

describe('sessions', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) });
  });
  afterAll(async () => {
    await server.close();
  });

  describe('heartbeat', () => {
    it('announces heartbeatMs in welcome', async () => {
      const client = await TestClient.connect(server.wsUrl, await server.token('alice'));
      try {
        expect(client.frames[0].data.heartbeatMs).toBe(HEARTBEAT_MS);
      } finally {
        await client.close();
      }
    });

    it('closes a client that does not answer pings within 2 × HEARTBEAT_INTERVAL_MS', async () => {
      const client = await TestClient.connect(server.wsUrl, await server.token('mute'), {
        autoPong: false,
      });
      const openedAt = Date.now();
      const code = await client.waitClose(10 * HEARTBEAT_MS);
      const after = Date.now() - openedAt;
      // terminate(): no close frame, the client sees an abnormal closure.
      expect(code).toBe(1006);
      expect(after).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 250);
    });

    it('keeps a client that answers pings connected across several intervals', async () => {
      const client = await TestClient.connect(server.wsUrl, await server.token('bob'));
      try {
        await serverPings(client, 5, 20 * HEARTBEAT_MS);
        expect(client.closeCode).toBeUndefined();
        expect(client.ws.readyState).toBe(client.ws.OPEN);
        expect((await client.request('ping')).event).toBe('pong');
      } finally {
        await client.close();
      }
    });

    it('frees the quota and the stats count of a client closed by the heartbeat', async () => {
      const observer = await TestClient.connect(server.wsUrl, await server.token('observer'));
      try {
        const before = (await observer.call('server.stats')).connections;
        const mute = await TestClient.connect(server.wsUrl, await server.token('mute2'), {
          autoPong: false,
        });
        expect((await observer.call('server.stats')).connections).toBe(before + 1);
        await mute.waitClose(10 * HEARTBEAT_MS);
        // The server noticed the death when it terminated the socket; the next sweep is a safe point to look.
        await serverPings(observer, 1);
        expect((await observer.call('server.stats')).connections).toBe(before);
      } finally {
        await observer.close();
      }
    });
  });

  describe('token expiry', () => {
    it('pushes error token_expired and closes with 4401 within about 1 s of exp', async () => {
      const token = await server.token('carol', {}, 2);
      const exp = jwtClaims(token).exp as number;
      const client = await TestClient.connect(server.wsUrl, token);
      const expired = client.next('error', 5000);
      const code = await client.waitClose(5000);
      const closedAt = Date.now();
      expect(code).toBe(4401);
      const push = await expired;
      expect(push).toEqual({
        event: 'error',
        data: { code: 'token_expired', message: expect.any(String) },
      });
      // The push comes right before the close: it is the last frame.
      expect(client.frames[client.frames.length - 1]).toBe(push);
      expect(closedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
      expect(closedAt - exp * 1000).toBeLessThanOrEqual(1000);
    });

    it('closes every connection of the token, each with 4401', async () => {
      const token = await server.token('dora', {}, 1);
      const a = await TestClient.connect(server.wsUrl, token);
      const b = await TestClient.connect(server.wsUrl, token);
      expect(await Promise.all([a.waitClose(4000), b.waitClose(4000)])).toEqual([4401, 4401]);
    });

    it('keeps the connection past the old exp after auth.refresh with a newer token for the same sub', async () => {
      const oldToken = await server.token('erin', {}, 2);
      const oldExp = jwtClaims(oldToken).exp as number;
      const client = await TestClient.connect(server.wsUrl, oldToken);
      try {
        const newToken = await server.token('erin', {}, 3600);
        const newExp = jwtClaims(newToken).exp as number;
        const reply = await client.request('auth.refresh', { token: newToken });
        expect(reply).toEqual({
          event: 'auth.refresh',
          id: expect.anything(),
          data: { exp: newExp },
        });
        // Past the old exp plus the 1 s notice window (and a margin): nothing happened.
        await until(oldExp * 1000 + 1500);
        expect(client.closeCode).toBeUndefined();
        expect(client.frames.some((f) => f.event === 'error')).toBe(false);
        expect((await client.request('ping')).event).toBe('pong');
      } finally {
        await client.close();
      }
    });

    it('refuses auth.refresh with a token of another sub with forbidden and still expires at the old exp', async () => {
      const token = await server.token('fred', {}, 2);
      const client = await TestClient.connect(server.wsUrl, token);
      const reply = await client.request('auth.refresh', {
        token: await server.token('mallory', {}, 3600),
      });
      expect(reply.event).toBe('error');
      expect(reply.data.code).toBe('forbidden');
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      expect(await client.waitClose(4000)).toBe(4401);
    });

    it('refuses auth.refresh with an invalid token with forbidden', async () => {
      const client = await TestClient.connect(server.wsUrl, await server.token('gina'));
      try {
        for (const bad of [
          'not-a-token',
          await server.token('gina', {}, -5), // expired
          (await server.token('gina')).slice(0, -3) + 'abc', // bad signature
        ]) {
          const reply = await client.request('auth.refresh', { token: bad });
          expect(reply.event).toBe('error');
          expect(reply.data.code).toBe('forbidden');
          expect(JSON.stringify(reply)).not.toContain(bad);
        }
        expect((await client.request('ping')).event).toBe('pong');
      } finally {
        await client.close();
      }
    });
  });
});
