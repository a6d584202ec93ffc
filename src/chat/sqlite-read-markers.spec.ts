import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMessageEdits } from '../store/sqlite-message-edits';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { describeReadMarkers } from './read-markers.contract';
import { SqliteReadMarkers } from './sqlite-read-markers';

describeReadMarkers('SqliteReadMarkers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-markers-'));
  let store: SqliteMessageStore | undefined;
  return {
    open: async () => {
      store = new SqliteMessageStore({ path: join(dir, 'hubbub.db') });
      await store.init();
      return { store, edits: new SqliteMessageEdits(store), markers: new SqliteReadMarkers(store) };
    },
    destroy: async () => {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
