import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { servicesGate, TEST_DATABASE_URL } from '../../test/support/services';
import { describeModerationStore } from './moderation-store.contract';
import { PostgresMessageStore } from './postgres-message-store';
import { PostgresModerationStore } from './postgres-moderation-store';

const pg = servicesGate('postgres');

pg.describe('PostgresModerationStore', () => {
  describeModerationStore('PostgresModerationStore', () => {
    const schema = `hubbub_test_${randomBytes(6).toString('hex')}`;
    return {
      open: async () => {
        const messages = new PostgresMessageStore({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
        await messages.init(); // runs the migrations (8: moderation)
        await messages.close();
        return new PostgresModerationStore({ url: TEST_DATABASE_URL, schema });
      },
      destroy: async () => {
        const c = new Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      },
    };
  });
});
