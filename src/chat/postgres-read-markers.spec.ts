import { randomBytes } from 'node:crypto';
import { pgQuery } from '../../test/support/pg-query';
import { servicesGate, TEST_DATABASE_URL } from '../../test/support/services';
import { PostgresMessageEdits } from '../store/postgres-message-edits';
import { PostgresMessageStore } from '../store/postgres-message-store';
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
