import { randomBytes } from 'node:crypto';
import { pgQuery } from '../../test/support/pg-query';
import { servicesGate, TEST_DATABASE_URL } from '../../test/support/services';
import { PostgresMessageEdits } from '../store/postgres-message-edits';
import { PostgresMessageStore } from '../store/postgres-message-store';
import { POSTGRES_MIGRATIONS } from '../store/postgres-migrations';
import { PostgresReadMarkers } from './postgres-read-markers';
import { describeReadMarkers } from './read-markers.contract';

const pg = servicesGate('postgres');

pg.describe('PostgresReadMarkers', () => {
  describeReadMarkers('PostgresReadMarkers', () => {
    // A schema of its own, so that concurrent test files never collide.
    const schema = `hubbub_test_${randomBytes(6).toString('hex')}`;
    let store: PostgresMessageStore | undefined;
    return {
      open: async () => {
        store = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 5 });
        await store.init();
        return {
          store,
          edits: new PostgresMessageEdits(store),
          markers: new PostgresReadMarkers(store),
        };
      },
      destroy: async () => {
        await store?.close();
        await pgQuery(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  });
});

pg.describe('PostgresReadMarkers on a database made before read markers (migration 7)', () => {
  const schema = `hubbub_test_${randomBytes(6).toString('hex')}`;
  afterAll(() => pgQuery(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  it('lists the dm rooms already stored for both of their users, every message unread', async () => {
    const steps = POSTGRES_MIGRATIONS.filter((m) => m.version < 7);
    await pgQuery(
      TEST_DATABASE_URL,
      `CREATE SCHEMA "${schema}"; SET search_path = "${schema}";
      CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now());
      ${steps.map((m) => `${m.sql};\nINSERT INTO schema_migrations (version, name) VALUES (${m.version}, '${m.name}');`).join('\n')}
      INSERT INTO rooms VALUES ('dm:ann:bo', 2), ('lobby', 1);
      INSERT INTO messages (id, room, seq, user_id, text, ts) VALUES
        (gen_random_uuid(), 'dm:ann:bo', 1, 'bo', 'hi', 1), (gen_random_uuid(), 'dm:ann:bo', 2, 'bo', 'there', 2),
        (gen_random_uuid(), 'lobby', 1, 'bo', 'all', 3);`,
    );
    const store = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
    try {
      await store.init();
      const markers = new PostgresReadMarkers(store);
      expect(await markers.rooms('ann', 10)).toEqual([
        { room: 'dm:ann:bo', seq: 2, lastRead: 0, unread: 2, mentions: 0 },
      ]);
      expect(await markers.rooms('bo', 10)).toEqual([
        { room: 'dm:ann:bo', seq: 2, lastRead: 0, unread: 0, mentions: 0 },
      ]);
      expect(await store.history({ room: 'lobby', limit: 10 })).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
