/**
 * `message.notify` on one instance, once per message store: a dm recipient with no connection gets one webhook, a
 * connected one none (docs/webhooks.md). The cluster case is in unread-cluster.e2e-spec.ts.
 */
import { randomBytes } from 'node:crypto';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { pgQuery } from '../support/pg-query';
import { startServer, type TestServer } from '../support/server';
import { Receiver } from '../support/webhook-receiver';
import { backends, BASE_ENV } from './chat-stores';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe.each(backends)('message.notify on $name', ({ name, env, gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;
    let receiver: Receiver;
    // PostgreSQL: a schema of its own, so that no other test's outbox events reach this receiver.
    const schema = `hubbub_notify_${randomBytes(4).toString('hex')}`;
    const storeEnv = (): Record<string, string> => {
      const base = env();
      if (!base.DATABASE_URL) return base;
      const url = new URL(base.DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return { DATABASE_URL: url.toString() };
    };
    beforeAll(async () => {
      if (env().DATABASE_URL) await pgQuery(env().DATABASE_URL, `CREATE SCHEMA "${schema}"`);
      receiver = await Receiver.start();
      server = await startServer({
        ...BASE_ENV,
        ...storeEnv(),
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
      });
    });
    afterAll(async () => {
      await server?.close();
      await receiver?.stop();
      if (env().DATABASE_URL) {
        await pgQuery(env().DATABASE_URL, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });
    const { connect } = trackedClients(() => server);
    const notifies = (userId: string) =>
      receiver.of('message.notify').filter((d) => d.body.data.userId === userId);

    it('sends one message.notify {userId, room, message, reason: "dm"} for a dm to a user with no connection', async () => {
      const amy = `amy-${rid()}`;
      const zed = `zed-${rid()}`;
      const a = await connect(amy);
      const { message } = await a.call('chat.dm', { to: zed, text: 'are you there?' });
      const d = await receiver.next('message.notify', (data) => data.userId === zed);
      expect(d.body.data).toEqual({ userId: zed, room: message.room, message, reason: 'dm' });
      expect(d.body.ts).toBe(message.ts);
      // A retry with the same clientMsgId is the same message: nothing more.
      await a.call('chat.dm', { to: zed, text: 'again', clientMsgId: 'k1' });
      await a.call('chat.dm', { to: zed, text: 'again', clientMsgId: 'k1' });
      await receiver.until(
        (all) => all.filter((x) => x.body.data?.userId === zed).length >= 2,
        '2',
      );
      const ids = new Set(notifies(zed).map((x) => x.body.id));
      expect(ids.size).toBe(2);
      // Never to the sender.
      expect(notifies(amy)).toEqual([]);
    });

    it('sends one message.notify with reason "mention" to each mentioned user with no connection, none to the author or to one connected', async () => {
      const amy = `amy-${rid()}`;
      const gone = `gone-${rid()}`;
      const here = `here-${rid()}`;
      const room = `room-${rid()}`;
      const a = await connect(amy);
      await connect(here);
      await a.call('chat.join', { room });
      const { message } = await a.call('chat.send', {
        room,
        text: `@${gone} @${here} @${amy} look`,
      });
      const d = await receiver.next('message.notify', (data) => data.userId === gone);
      expect(d.body.data).toEqual({ userId: gone, room, message, reason: 'mention' });
      // The author's own later dm to someone offline proves the first message was decided.
      const after = `after-${rid()}`;
      await a.call('chat.dm', { to: after, text: 'barrier' });
      await receiver.next('message.notify', (data) => data.userId === after);
      expect(notifies(here)).toEqual([]);
      expect(notifies(amy)).toEqual([]);
      expect(notifies(gone)).toHaveLength(1);
    });

    it('sends none to a dm recipient who has a live connection', async () => {
      const amy = `amy-${rid()}`;
      const bob = `bob-${rid()}`;
      const offline = `off-${rid()}`;
      const a = await connect(amy);
      await connect(bob); // connected, joined to nothing
      await a.call('chat.dm', { to: bob, text: 'you are here' });
      // A later notify to someone offline proves the first was decided (in order, on this instance).
      await a.call('chat.dm', { to: offline, text: 'you are not' });
      await receiver.next('message.notify', (data) => data.userId === offline);
      expect(notifies(bob)).toEqual([]);
    });
  });
});
