/**
 * Issue 8, points 5 and 6: numbers are safe integers in range and text refuses NUL and other C0 controls
 * (`validation_failed`), a failed request changes no state, and PostgreSQL and SQLite answer alike (before the fix
 * PostgreSQL answered `internal` with a logged stack to 2^63 and NUL, SQLite stored them). Runs on both stores.
 */
import { expectNoPush, trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { captureLogs, type LogCapture } from '../support/log-capture';
import { servicesGate } from '../support/services';
import { startServer, type TestServer } from '../support/server';
import type { Frame, TestClient } from '../support/ws-client';

const pg = servicesGate('postgres');

const backends = [
  { name: 'SQLite', env: (): Record<string, string> => ({}), describe },
  { name: 'PostgreSQL', env: () => ({ DATABASE_URL: pg.url }), describe: pg.describe },
];

const BASE_ENV = { RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' };

const TWO_POW_53 = 9007199254740992;
const TWO_POW_63 = 9223372036854775808;

function expectValidationFailed(reply: Frame, field: string): void {
  expect(reply.event).toBe('error');
  expect(reply.data).toMatchObject({ code: 'validation_failed' });
  expect((reply.data.details as { field: string }[]).map((d) => d.field)).toContain(field);
}

describe.each(backends)('validation on $name', ({ name, env, describe: gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;
    let logs: LogCapture;

    beforeAll(async () => {
      server = await startServer({ ...BASE_ENV, ...env() });
      logs = captureLogs();
    });
    afterAll(async () => {
      logs.restore();
      await server?.close();
    });
    afterEach(() => {
      // Client input never logs a stack.
      expect(logs.stacks()).toEqual([]);
    });

    const { connect } = trackedClients(() => server);

    it.each([TWO_POW_53, TWO_POW_63, 1e308, -1, 1.5, '1'])(
      'refuses chat.join since=%p with validation_failed and does not join',
      async (since) => {
        const room = `room-${rid()}`;
        const alice = await connect(`alice-${rid()}`);
        const watcher = await connect(`bob-${rid()}`);
        await watcher.call('chat.join', { room });
        const mark = watcher.frames.length;
        expectValidationFailed(await alice.request('chat.join', { room, since }), 'since');
        // Not joined: sending there is not_joined, and no presence.join reached the room.
        expect((await alice.request('chat.send', { room, text: 'hi' })).data.code).toBe(
          'not_joined',
        );
        await expectNoPush(watcher, mark, 'presence.join');
        expect((await watcher.call('presence.list', { room })).members).toHaveLength(1);
      },
    );

    it.each([TWO_POW_53, TWO_POW_63, 1e308])(
      'refuses channel.subscribe since=%p with validation_failed and does not subscribe',
      async (since) => {
        const channel = `chan-${rid()}`;
        const sub = await connect(`sub-${rid()}`);
        const pub = await connect(`pub-${rid()}`, { publish: ['*'] });
        expectValidationFailed(await sub.request('channel.subscribe', { channel, since }), 'since');
        const mark = sub.frames.length;
        await pub.call('channel.publish', { channel, data: 'x' });
        await expectNoPush(sub, mark, 'channel.message');
      },
    );

    it.each([
      ['before', TWO_POW_63],
      ['after', TWO_POW_63],
      ['before', TWO_POW_53],
      ['after', 1e308],
      ['limit', 1e308],
      ['limit', 101],
    ])('answers chat.history %s=%p with validation_failed', async (field, value) => {
      const room = `room-${rid()}`;
      const alice = await connect(`alice-${rid()}`);
      expectValidationFailed(await alice.request('chat.history', { room, [field]: value }), field);
    });

    it('refuses NUL and C0 controls in text and clientMsgId, stores tab, line feed and carriage return', async () => {
      const room = `room-${rid()}`;
      const alice = await connect(`alice-${rid()}`);
      await alice.call('chat.join', { room });
      for (const bad of ['\u0000', 'a\u0000b', 'x\u0007', '\u001b[31m']) {
        expectValidationFailed(await alice.request('chat.send', { room, text: bad }), 'text');
        expectValidationFailed(
          await alice.request('chat.send', { room, text: 'ok', clientMsgId: bad }),
          'clientMsgId',
        );
        expectValidationFailed(await alice.request('chat.dm', { to: 'bob', text: bad }), 'text');
      }
      const sent = await alice.call('chat.send', { room, text: 'tab\there\nline\r\nend' });
      expect(sent.message).toMatchObject({ seq: 1, text: 'tab\there\nline\r\nend' });
      const history = await alice.call('chat.history', { room });
      expect(history.messages).toHaveLength(1);
    });

    it('answers chat.read with a seq above the room last seq with validation_failed, and pushes nothing', async () => {
      const room = `room-${rid()}`;
      const alice = await connect(`alice-${rid()}`);
      const bob = await connect(`bob-${rid()}`);
      await alice.call('chat.join', { room });
      await bob.call('chat.join', { room });
      await alice.call('chat.send', { room, text: 'one' });
      const mark = bob.frames.length;
      expectValidationFailed(await alice.request('chat.read', { room, seq: 2 }), 'seq');
      expectValidationFailed(await alice.request('chat.read', { room, seq: TWO_POW_63 }), 'seq');
      await expectNoPush(bob, mark, 'chat.read');
      expect(await alice.call('chat.read', { room, seq: 1 })).toEqual({});
      expect((await bob.next('chat.read')).data).toMatchObject({ room, seq: 1 });
    });

    it('refuses control characters in presence.query user ids', async () => {
      const alice: TestClient = await connect(`alice-${rid()}`);
      expectValidationFailed(
        await alice.request('presence.query', { userIds: ['ok', 'bad\u0000'] }),
        'userIds',
      );
    });
  });
});
