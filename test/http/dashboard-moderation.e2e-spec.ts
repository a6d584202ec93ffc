import { backends, BASE_ENV } from '../chat/chat-stores';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

/**
 * The dashboard's moderation routes on each message store: `GET /api/rooms/:room/moderation` (roles, settings,
 * and the bans and mutes in force) and `POST /api/rooms/:room/kicks`.
 */
jest.setTimeout(30_000);

const API_KEY = 'dashboard-moderation-key-0123456789';

describe.each(backends)('dashboard moderation routes on $name', ({ name, env, gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;
    const clients: TestClient[] = [];

    beforeAll(async () => {
      server = await startServer({ ...BASE_ENV, ...env(), API_KEY });
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    afterAll(async () => {
      await server?.close();
    });

    async function api(method: string, path: string, body?: unknown): Promise<Response> {
      return fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    }

    it('lists roles, settings and the bans and mutes in force; lifted ones drop out', async () => {
      const room = `dash-${rid()}`;
      const [owner, mod, banned, muted, freed] = ['own', 'mod', 'ban', 'mute', 'free'].map(
        (p) => `${p}${rid()}`,
      );
      const until = Date.now() + 3_600_000;
      expect((await api('PUT', `/api/rooms/${room}/roles/${owner}`, { role: 'owner' })).ok).toBe(
        true,
      );
      expect((await api('PUT', `/api/rooms/${room}/roles/${mod}`, { role: 'moderator' })).ok).toBe(
        true,
      );
      expect(
        (await api('POST', `/api/rooms/${room}/bans`, { userId: banned, reason: 'spam' })).ok,
      ).toBe(true);
      expect((await api('POST', `/api/rooms/${room}/mutes`, { userId: muted, until })).ok).toBe(
        true,
      );
      expect((await api('POST', `/api/rooms/${room}/bans`, { userId: freed, until })).ok).toBe(
        true,
      );
      expect((await api('DELETE', `/api/rooms/${room}/bans/${freed}`)).ok).toBe(true);
      expect((await api('PUT', `/api/rooms/${room}/settings`, { slowModeMs: 5000 })).ok).toBe(true);

      const res = await api('GET', `/api/rooms/${room}/moderation`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        room,
        owners: [owner],
        moderators: [mod],
        settings: { slowModeMs: 5000 },
        firstSeq: expect.any(Number),
        bans: [{ userId: banned, reason: 'spam' }],
        mutes: [{ userId: muted, until }],
      });
    });

    it('kicks every connection of a user out of the room; they may join again', async () => {
      const room = `dash-${rid()}`;
      const userId = `kim${rid()}`;
      const kim = await TestClient.connect(server.wsUrl, await server.token(userId));
      clients.push(kim);
      await kim.call('chat.join', { room });
      const res = await api('POST', `/api/rooms/${room}/kicks`, { userId });
      expect(res.status).toBe(204);
      expect((await kim.next('chat.left', 10_000)).data).toEqual({ room, reason: 'kicked' });
      await kim.call('chat.join', { room });
      const audit = (await (await api('GET', `/api/rooms/${room}/audit`)).json()) as {
        entries: { action: string; userId: string; by: string }[];
      };
      expect(audit.entries[0]).toMatchObject({ action: 'kick', userId, by: 'server' });
    });
  });
});
