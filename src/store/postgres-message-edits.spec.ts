import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { servicesGate, TEST_DATABASE_URL } from '../../test/support/services';
import { describeMessageEdits } from './message-edits.contract';
import { PostgresMessageEdits } from './postgres-message-edits';
import { POSTGRES_MIGRATIONS, PostgresMessageStore } from './postgres-message-store';

const freshSchema = () => `hubbub_test_${randomBytes(6).toString('hex')}`;

async function sql<T = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const pg = servicesGate('postgres');

pg.describe('PostgresMessageEdits', () => {
  describeMessageEdits('PostgresMessageEdits', () => {
    const schema = freshSchema();
    return {
      open: ({ outbox }) => {
        const store = new PostgresMessageStore({
          url: TEST_DATABASE_URL,
          schema,
          poolSize: 5,
          outbox,
        });
        return { store, edits: new PostgresMessageEdits(store) };
      },
      destroy: () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined),
    };
  });
});

pg.describe('PostgresMessageEdits specifics', () => {
  let schema: string;
  let store: PostgresMessageStore;
  let edits: PostgresMessageEdits;
  beforeEach(async () => {
    schema = freshSchema();
    store = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 3 });
    edits = new PostgresMessageEdits(store);
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  /** Every row of every table of the schema, as text. */
  async function everything(): Promise<string> {
    const tables = await sql<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    const dumps = await Promise.all(
      tables.map(({ table_name }) =>
        sql(`SELECT t::text AS row FROM "${schema}"."${table_name}" t`),
      ),
    );
    return JSON.stringify(dumps);
  }

  test('no query of any table finds a deleted text, its words, name or mentions', async () => {
    const secret = 'Zqxjvbw' + randomBytes(6).toString('hex');
    await store.append({ room: 'r', userId: 'u', text: 'keep' });
    await store.append({
      room: 'r',
      userId: 'u',
      name: 'Nameless',
      text: `x ${secret} @mentioned`,
      mentions: ['mentioned'],
    });
    await edits.react('r', 2, { reaction: 'reacted', userId: 'v', on: true, ts: 1 });
    expect(await everything()).toContain(secret.toLowerCase()); // in tsv: the check can see it
    await edits.delete('r', 2, 'u');
    const all = await everything();
    for (const word of [secret, secret.toLowerCase(), 'Nameless', 'mentioned', 'reacted']) {
      expect(all).not.toContain(word);
    }
    expect(
      await sql(`SELECT text, name, deleted, tsv::text FROM "${schema}".messages WHERE seq = 2`),
    ).toEqual([{ text: '', name: null, deleted: true, tsv: '' }]);
  });

  test('mentions are rows beside the message, replaced on edit', async () => {
    await store.append({ room: 'r', userId: 'u', text: '@a @b', mentions: ['a', 'b', 'a'] });
    const mentions = () => sql(`SELECT user_id FROM "${schema}".message_mentions ORDER BY user_id`);
    expect(await mentions()).toEqual([{ user_id: 'a' }, { user_id: 'b' }]);
    await edits.edit('r', 1, { text: '@c', mentions: ['c'], editedAt: 1 });
    expect(await mentions()).toEqual([{ user_id: 'c' }]);
  });
});

pg.describe('PostgreSQL upgrade from the schema of the previous release (version 4)', () => {
  test('a database made before the chat-lifecycle migration opens with its history intact, searchable and editable', async () => {
    const schema = freshSchema();
    const c = new Client({
      connectionString: TEST_DATABASE_URL,
      options: `-c search_path=${schema}`,
    });
    await c.connect();
    try {
      // The previous release's schema: the migrations list is append-only, so its first four steps are it.
      await c.query(`CREATE SCHEMA "${schema}"`);
      await c.query(`CREATE TABLE schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const m of POSTGRES_MIGRATIONS.filter((m) => m.version <= 4)) {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ]);
      }
      // Written as the previous release wrote them: through its group-commit function.
      await c.query(`SELECT * FROM hubbub_append_batch($1, $2, $3, $4, $5, $6, $7, $8, false)`, [
        ['r', 'r', 'r'],
        ['u', 'v', 'u'],
        ['U', null, null],
        ['Old Hello world', 'second words', 'hello again'],
        ['c1', null, null],
        [randomUUID(), randomUUID(), randomUUID()],
        [randomUUID(), randomUUID(), randomUUID()],
        10,
      ]);
    } finally {
      await c.end();
    }
    const store = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
    const edits = new PostgresMessageEdits(store);
    try {
      await store.init();
      const history = await store.history({ room: 'r', limit: 10 });
      expect(history.map(({ id: _id, ...m }) => m)).toEqual([
        {
          room: 'r',
          seq: 1,
          userId: 'u',
          name: 'U',
          text: 'Old Hello world',
          ts: 10,
          clientMsgId: 'c1',
        },
        { room: 'r', seq: 2, userId: 'v', text: 'second words', ts: 10 },
        { room: 'r', seq: 3, userId: 'u', text: 'hello again', ts: 10 },
      ]);
      const search = async () =>
        (await edits.search('r', ['hello'], Number.MAX_SAFE_INTEGER, 10)).map((m) => m.seq);
      expect(await search()).toEqual([3, 1]);
      expect((await edits.delete('r', 1, 'u'))?.changed).toBe(true);
      expect(await search()).toEqual([3]);
      const next = await store.append({
        room: 'r',
        userId: 'u',
        text: 'new',
        replyTo: 2,
        mentions: ['v'],
      });
      expect(next.message).toMatchObject({ seq: 4, replyTo: 2, mentions: ['v'] });
      expect(
        (await store.append({ room: 'r', userId: 'u', text: 'x', clientMsgId: 'c1' })).duplicate,
      ).toBe(true);
    } finally {
      await store.close();
      await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
