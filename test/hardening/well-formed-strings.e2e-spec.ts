/**
 * Strings that are not well-formed Unicode (a lone surrogate, sent as a JSON `\uD800` escape) are refused with
 * `validation_failed` in every field, at the one validation place, and in HTTP bodies and token claims too
 * (CONTRACT sections 3 and 4). Both stores used to turn a lone surrogate into U+FFFD, so two distinct
 * `clientMsgId`s collapsed into one message.
 */
import { randomBytes } from 'node:crypto';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { servicesGate } from '../support/services';
import { handshakeStatus, type TestClient } from '../support/ws-client';
import { pgQuery } from '../support/pg-query';

const API_KEY = 'well-formed-test-key-0123456789';
const api = serverApi(API_KEY);
const LONE_HIGH = '\ud800';
const LONE_LOW = '\udc00';
const PAIR = '\ud83d\ude00';

const expectRefused = async (
  client: TestClient,
  event: string,
  data: unknown,
  field: string,
): Promise<void> => {
  const reply = await client.request(event, data);
  expect(reply.event).toBe('error');
  expect(reply.data.code).toBe('validation_failed');
  expect(reply.data.details).toEqual([{ field, errors: [expect.stringMatching(/well-formed/)] }]);
};

/** The same checks against whichever store the server runs on. */
function storeSuite(name: string, start: () => Promise<TestServer>, stop?: () => Promise<void>) {
  describe(name, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start();
    }, 30_000);
    afterAll(async () => {
      await server?.close();
      await stop?.();
    });
    const { connect } = trackedClients(() => server);

    it('two clientMsgIds that differ only in a lone surrogate are both refused, nothing is stored', async () => {
      const room = `wf-${rid()}`;
      const c = await connect(`u-${rid()}`);
      await c.call('chat.join', { room });
      const id = rid();
      await expectRefused(
        c,
        'chat.send',
        { room, text: 'a', clientMsgId: `${id}${LONE_HIGH}` },
        'clientMsgId',
      );
      await expectRefused(
        c,
        'chat.send',
        { room, text: 'b', clientMsgId: `${id}${LONE_LOW}` },
        'clientMsgId',
      );
      await expectRefused(c, 'chat.send', { room, text: `x${LONE_HIGH}y` }, 'text');
      expect((await c.call('chat.history', { room })).messages).toEqual([]);
      // A surrogate pair is well-formed: stored and given back as sent.
      const { message } = await c.call('chat.send', {
        room,
        text: `x${PAIR}y`,
        clientMsgId: `${id}${PAIR}`,
      });
      expect(message).toMatchObject({ seq: 1, text: `x${PAIR}y`, clientMsgId: `${id}${PAIR}` });
      expect((await c.call('chat.history', { room })).messages).toEqual([message]);
    });

    it('refuses a lone surrogate in dm, presence and nested publish data alike', async () => {
      const c = await connect(`u-${rid()}`);
      await expectRefused(c, 'chat.dm', { to: `v${LONE_LOW}`, text: 'hi' }, 'to');
      await expectRefused(c, 'chat.dm', { to: 'v', text: `hi${LONE_LOW}` }, 'text');
      await expectRefused(c, 'presence.query', { userIds: ['a', `b${LONE_HIGH}`] }, 'userIds.1');
      await expectRefused(
        c,
        'channel.publish',
        { channel: `wf-${rid()}`, data: { list: [1, { s: `z${LONE_LOW}` }] } },
        'data.list.1.s',
      );
      await expectRefused(c, 'auth.refresh', { token: `t${LONE_HIGH}` }, 'token');
    });

    it('refuses a lone surrogate in an HTTP body with 400', async () => {
      const room = `wf-${rid()}`;
      const res = await api(server, 'POST', `/api/rooms/${room}/messages`, {
        userId: 'u',
        text: `x${LONE_HIGH}`,
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/text must be well-formed/);
      const broadcast = await api(server, 'POST', '/api/broadcast', { data: [`y${LONE_LOW}`] });
      expect(broadcast.status).toBe(400);
      expect((await api(server, 'GET', `/api/rooms/${room}/messages`)).body.messages).toEqual([]);
    });

    it('refuses a token whose sub or name is not well-formed at the handshake: 401', async () => {
      const bearer = async (sub: string, claims: Record<string, unknown> = {}) => ({
        authorization: `Bearer ${await server.token(sub, claims)}`,
      });
      expect(await handshakeStatus(server.wsUrl, await bearer(`u${LONE_HIGH}`))).toBe(401);
      expect(await handshakeStatus(server.wsUrl, await bearer('u', { name: `n${LONE_LOW}` }))).toBe(
        401,
      );
      expect(await handshakeStatus(server.wsUrl, await bearer('u', { name: `n${PAIR}` }))).toBe(
        101,
      );
    });
  });
}

storeSuite('well-formed strings (SQLite)', () => startServer({ API_KEY }));

const postgres = servicesGate('postgres');
const schema = `hubbub_wf_${randomBytes(4).toString('hex')}`;
const sql = async (text: string): Promise<void> => {
  await pgQuery(postgres.url, text);
};
postgres.describe('PostgreSQL', () => {
  storeSuite(
    'well-formed strings (PostgreSQL)',
    async () => {
      await sql(`CREATE SCHEMA "${schema}"`);
      const url = new URL(postgres.url);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return startServer({ API_KEY, DATABASE_URL: url.toString() });
    },
    () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
  );
});
