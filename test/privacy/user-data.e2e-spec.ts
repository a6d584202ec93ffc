import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { MessageEdits } from '../../src/store/message-edits';
import { MessageStore } from '../../src/store/message-store';
import { RetentionSweeper } from '../../src/privacy/retention-sweeper';
import { RetentionStore } from '../../src/store/retention-store';
import { BASE_ENV, backends } from '../chat/chat-stores';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { serverApi } from '../support/http';
import { pgQuery } from '../support/pg-query';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';
import { Receiver } from '../support/webhook-receiver';
import { api, API_KEY, lit, postgresReader, type Sql, sqliteReader } from './privacy-support';

/**
 * The data of a person (GET /api/users/:userId/export, DELETE /api/users/:userId) and retention (RETENTION_DAYS),
 * on each store, against a real server: what the API answers, and what the store holds afterwards, read with SQL.
 */
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const DAY_MS = 86_400_000;

interface Row {
  room: string;
  seq: number;
  text: string;
  name: string | null;
  client_msg_id: string | null;
  mentions: unknown;
  reactions: unknown;
  deleted: number;
}
const ROW = `SELECT room, CAST(seq AS INTEGER) AS seq, text, name, client_msg_id, mentions, reactions,
  CASE WHEN deleted THEN 1 ELSE 0 END AS deleted FROM messages`;

describe.each(backends)('the data of a person on $name', ({ name, env, gate }) => {
  gate(`${name} store`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let sql: Sql;
    beforeAll(async () => {
      receiver = await Receiver.start();
      server = await startServer({
        ...BASE_ENV,
        ...env(),
        API_KEY,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        RETENTION_DAYS: '1',
        RETENTION_SWEEP_MS: '3600000',
      });
      sql =
        name === 'SQLite'
          ? sqliteReader(server.config.sqlitePath)
          : postgresReader(env().DATABASE_URL);
    });
    afterAll(async () => {
      await server?.close();
      await receiver?.stop();
    });
    const { connect } = trackedClients(() => server);

    it('exports every message and the presence of a user as one JSON document, part by part', async () => {
      const [alice, bob, r1, r2] = [`alice-${rid()}`, `bob-${rid()}`, `a-${rid()}`, `b-${rid()}`];
      const a = await connect(alice, { name: 'Alice' });
      const b = await connect(bob);
      for (const room of [r1, r2]) await a.call('chat.join', { room });
      await b.call('chat.join', { room: r1 });
      await a.call('chat.send', { room: r2, text: 'in two' });
      await a.call('chat.send', { room: r1, text: 'one', clientMsgId: 'c1' });
      await b.call('chat.send', { room: r1, text: 'not hers' });
      await a.call('chat.send', { room: r1, text: 'three' });
      const edits = server.app.get(MessageEdits);
      await edits.react(r1, 2, { reaction: 'up', userId: alice, on: true, ts: 1000 });

      const res = await api(server.url, 'GET', `/api/users/${alice}/export`);
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^application\/json/);
      const doc = JSON.parse(res.text) as Record<string, unknown[]> & { userId: string };
      expect(Object.keys(doc).slice(0, 2)).toEqual(['userId', 'messages']);
      expect(doc.userId).toBe(alice);
      expect(doc.messages).toEqual([
        expect.objectContaining({
          room: r1,
          seq: 1,
          text: 'one',
          name: 'Alice',
          clientMsgId: 'c1',
        }),
        expect.objectContaining({ room: r1, seq: 3, text: 'three', userId: alice }),
        expect.objectContaining({ room: r2, seq: 1, text: 'in two' }),
      ]);
      expect(doc.reactions).toEqual([{ room: r1, seq: 2, reaction: 'up', ts: 1000 }]);
      expect(doc.presence).toEqual([
        expect.objectContaining({ room: r1, status: 'online', connections: 1 }),
        expect.objectContaining({ room: r2, status: 'online', connections: 1 }),
      ]);
    });

    it('refuses an export or erasure without the API key (401) and a malformed user id (400)', async () => {
      expect((await api(server.url, 'GET', '/api/users/x/export', null)).status).toBe(401);
      expect((await api(server.url, 'DELETE', '/api/users/x', 'wrong')).status).toBe(401);
      expect((await api(server.url, 'DELETE', `/api/users/${'x'.repeat(129)}`)).status).toBe(400);
      expect((await api(server.url, 'GET', '/api/users/a%00b/export')).status).toBe(400);
    });

    it('erases a user: 4403 on their sockets, tombstones keep the seqs, nothing of theirs is left in the store, user.erased', async () => {
      const [alice, bob, room] = [`alice-${rid()}`, `bob-${rid()}`, `erase-${rid()}`];
      const a = await connect(alice, { name: 'Alice' });
      const b = await connect(bob, { name: 'Bob' });
      await a.call('chat.join', { room });
      await b.call('chat.join', { room });
      await a.call('chat.send', { room, text: 'secret one', clientMsgId: 'k1' });
      await b.call('chat.send', { room, text: 'hello' });
      const store = server.app.get(MessageStore);
      await store.append({
        room,
        userId: alice,
        name: 'Alice',
        text: `hi @${bob}`,
        mentions: [bob],
      });
      await store.append({ room, userId: bob, text: `yo @${alice}`, mentions: [alice] });
      const edits = server.app.get(MessageEdits);
      await edits.react(room, 1, { reaction: 'wow', userId: bob, on: true, ts: Date.now() });
      await edits.react(room, 2, { reaction: 'ok', userId: bob, on: true, ts: Date.now() });
      await edits.react(room, 2, { reaction: 'ok', userId: alice, on: true, ts: Date.now() });
      await edits.react(room, 4, { reaction: 'no', userId: alice, on: true, ts: Date.now() });

      const closed = a.waitClose(10_000);
      const left = b.next('presence.leave', 10_000, (f) => f.data.userId === alice);
      expect((await api(server.url, 'DELETE', `/api/users/${alice}`)).status).toBe(202);
      expect(await closed).toBe(4403);
      await left;

      const hers = await sql<Row>(`${ROW} WHERE user_id = ${lit(alice)} ORDER BY seq`);
      expect(hers.map((r) => r.seq)).toEqual([1, 3]);
      for (const row of hers) {
        expect(row).toMatchObject({ text: '', name: null, client_msg_id: null, deleted: 1 });
        expect(row.mentions ?? null).toBeNull();
        expect(row.reactions ?? null).toBeNull();
      }
      const childRows = await sql<{ n: number }>(
        `SELECT (SELECT count(*) FROM message_mentions WHERE room = ${lit(room)} AND seq IN (1, 3))
          + (SELECT count(*) FROM message_reactions WHERE room = ${lit(room)} AND seq IN (1, 3)) AS n`,
      );
      expect(Number(childRows[0].n)).toBe(0);
      expect(await sql(`SELECT * FROM user_erasures WHERE user_id = ${lit(alice)}`)).toEqual([]);
      const reactions = await sql<{ user_id: string; reaction: string }>(
        `SELECT user_id, reaction FROM message_reactions WHERE room = ${lit(room)} ORDER BY seq`,
      );
      expect(reactions).toEqual([{ user_id: bob, reaction: 'ok' }]);
      // Bob's messages, and his reaction to his own, are his: untouched.
      const his = await sql<Row>(`${ROW} WHERE user_id = ${lit(bob)} ORDER BY seq`);
      expect(his.map((r) => [r.seq, r.text, r.deleted])).toEqual([
        [2, 'hello', 0],
        [4, `yo @${alice}`, 0],
      ]);

      const history = (await b.call('chat.history', { room })).messages as Record<
        string,
        unknown
      >[];
      expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
      expect(history[0]).toEqual(
        expect.objectContaining({ seq: 1, userId: alice, text: '', deleted: true }),
      );
      expect(history[0].name).toBeUndefined();

      const erased = await receiver.next(
        'user.erased',
        (d: { userId: string }) => d.userId === alice,
      );
      expect(erased.body.data).toEqual({ userId: alice });

      const doc = JSON.parse((await api(server.url, 'GET', `/api/users/${alice}/export`)).text);
      expect(
        doc.messages.map((m: { text: string; deleted: boolean }) => [m.text, m.deleted]),
      ).toEqual([
        ['', true],
        ['', true],
      ]);
      expect(doc.presence).toEqual([]);
      expect(doc.reactions).toEqual([]);
    });

    it('puts tombstones in the undelivered webhook events of their messages, and drops their name from presence ones', async () => {
      receiver.status = () => 500; // nothing is delivered: the events wait in the outbox
      try {
        const [alice, room] = [`alice-${rid()}`, `outbox-${rid()}`];
        const a = await connect(alice, { name: 'Alice Outbox' });
        await a.call('chat.join', { room });
        await a.call('chat.send', { room, text: 'undelivered secret' });
        const mine = `payload LIKE ${lit(`%${alice}%`)}`;
        expect((await sql(`SELECT id FROM webhook_outbox WHERE ${mine}`)).length).toBeGreaterThan(
          1,
        );
        expect((await api(server.url, 'DELETE', `/api/users/${alice}`)).status).toBe(202);
        const left = await sql<{ payload: string }>(
          `SELECT payload FROM webhook_outbox WHERE ${mine}`,
        );
        expect(left.length).toBeGreaterThan(1);
        for (const { payload } of left) {
          expect(payload).not.toContain('undelivered secret');
          expect(payload).not.toContain('Alice Outbox');
        }
      } finally {
        receiver.status = () => 200;
      }
    });

    it('erasing again, or a user it never saw, answers 202 and changes nothing', async () => {
      const [alice, room] = [`alice-${rid()}`, `again-${rid()}`];
      const a = await connect(alice);
      await a.call('chat.join', { room });
      await a.call('chat.send', { room, text: 'gone soon' });
      expect((await api(server.url, 'DELETE', `/api/users/${alice}`)).status).toBe(202);
      const first = await sql<Row>(`${ROW} WHERE user_id = ${lit(alice)}`);
      expect((await api(server.url, 'DELETE', `/api/users/${alice}`)).status).toBe(202);
      expect(await sql<Row>(`${ROW} WHERE user_id = ${lit(alice)}`)).toEqual(first);
      expect((await api(server.url, 'DELETE', `/api/users/nobody-${rid()}`)).status).toBe(202);
      expect(await sql(`SELECT * FROM user_erasures WHERE user_id = ${lit(alice)}`)).toEqual([]);
    });

    it('retention deletes the oldest messages for good; firstSeq moves, since below it returns what is left, seqs go on', async () => {
      const [alice, room] = [`alice-${rid()}`, `old-${rid()}`];
      const a = await connect(alice);
      await a.call('chat.join', { room });
      const store = server.app.get(MessageStore);
      await store.append({ room, userId: alice, text: 'mentions bob', mentions: [`bob-${rid()}`] });
      for (let i = 2; i <= 10; i++) await a.call('chat.send', { room, text: `m${i}` });
      const old = Date.now() - 2 * DAY_MS;
      // seq 1..6 are old, and so is 8: the sweep stops at 7, the first one that is not, so seqs stay gapless.
      await setTs(name, server, room, [1, 2, 3, 4, 5, 6, 8], old);

      const sweeper = server.app.get(RetentionSweeper);
      await sweeper.tick(); // one may be under way: the next starts after it
      await sweeper.tick();

      expect(await store.firstSeq(room)).toBe(7);
      expect(await store.lastSeq(room)).toBe(10);
      const join = await a.call('chat.join', { room, since: 2 });
      expect(join.messages.map((m: { seq: number }) => m.seq)).toEqual([7, 8, 9, 10]);
      const history = await a.call('chat.history', { room, limit: 100 });
      expect(history.messages.map((m: { seq: number }) => m.seq)).toEqual([7, 8, 9, 10]);
      expect((await a.call('chat.send', { room, text: 'next' })).message.seq).toBe(11);
      const mentions = await sql<{ n: number }>(
        `SELECT count(*) AS n FROM message_mentions WHERE room = ${lit(room)}`,
      );
      expect(Number(mentions[0].n)).toBe(0);
    });

    /**
     * The store of instances of a test's own: on PostgreSQL a schema of its own (dropped by `drop`), so no other
     * test's server, sweeping the shared schema meanwhile, holds its sweep lock or adds to its rooms.
     */
    async function ownStore(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
      if (name === 'SQLite') return { env: env(), drop: () => Promise.resolve() };
      const schema = `sweep_${rid()}`.toLowerCase();
      const shared = env().DATABASE_URL;
      await pgQuery(shared, `CREATE SCHEMA "${schema}"`);
      const url = new URL(shared);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return {
        env: { DATABASE_URL: url.toString() },
        drop: async () => void (await pgQuery(shared, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
      };
    }

    it("lets one sweeper at a time hold the store's sweep lock (another instance sharing it skips that sweep)", async () => {
      // PostgreSQL: an advisory lock per schema; SQLite: one instance per file, the process is the lock.
      const own = await ownStore();
      const quiet = { ...BASE_ENV, ...own.env, RETENTION_SWEEP_MS: '3600000' };
      const one = name === 'SQLite' ? server : await startServer(quiet);
      const other = await startServer(quiet);
      try {
        // Each instance sweeps once as it starts: let those end (tick() waits for a sweep under way).
        await Promise.all([one, other].map((s) => s.app.get(RetentionSweeper).tick()));
        const mine = one.app.get(RetentionStore);
        const theirs = other.app.get(RetentionStore);
        const inside = await mine.exclusively(() =>
          theirs.exclusively(() => Promise.resolve('ran')),
        );
        expect(inside).toBe(name === 'SQLite' ? 'ran' : undefined);
        expect(await theirs.exclusively(() => Promise.resolve('ran'))).toBe('ran');
        expect(await mine.exclusively(() => Promise.resolve('ran'))).toBe('ran');
      } finally {
        await other.close();
        if (one !== server) await one.close();
        await own.drop();
      }
    });

    it("sweeps a room by its own retentionDays with no RETENTION_DAYS, and keeps the other rooms' messages", async () => {
      const own = await ownStore();
      const solo = await startServer({
        ...BASE_ENV,
        ...own.env,
        API_KEY,
        RETENTION_SWEEP_MS: '3600000',
      });
      try {
        const [alice, kept, swept] = [`alice-${rid()}`, `kept-${rid()}`, `swept-${rid()}`];
        const a = await TestClient.connect(solo.wsUrl, await solo.token(alice));
        for (const room of [kept, swept]) {
          await a.call('chat.join', { room });
          for (let i = 1; i <= 4; i++) await a.call('chat.send', { room, text: `m${i}` });
          await setTs(name, solo, room, [1, 2], Date.now() - 3 * DAY_MS);
        }
        await a.close();
        const put = await serverApi(API_KEY)(solo, 'PUT', `/api/rooms/${swept}/settings`, {
          retentionDays: 2,
        });
        expect(put.status).toBeLessThan(300);
        const sweeper = solo.app.get(RetentionSweeper);
        await sweeper.tick(); // one may be under way: the next starts after it
        await sweeper.tick();
        const store = solo.app.get(MessageStore);
        expect(await store.firstSeq(swept)).toBe(3);
        expect(await store.firstSeq(kept)).toBe(1);
      } finally {
        await solo.close();
        await own.drop();
      }
    });
  });
});

/** Sets the `ts` of some messages of a room, on a connection of the test's own (the test's clock shift). */
async function setTs(
  store: string,
  server: TestServer,
  room: string,
  seqs: number[],
  ts: number,
): Promise<void> {
  const update = `UPDATE messages SET ts = ${ts} WHERE room = ${lit(room)} AND seq IN (${seqs.join(', ')})`;
  if (store === 'PostgreSQL') return void (await pgQuery(server.config.databaseUrl!, update));
  const db = new DatabaseSync(server.config.sqlitePath);
  try {
    db.exec(update);
  } finally {
    db.close();
  }
}
