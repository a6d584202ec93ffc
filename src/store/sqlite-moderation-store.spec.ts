import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeModerationStore } from './moderation-store.contract';
import { SqliteMessageStore } from './sqlite-message-store';
import { SqliteModerationStore } from './sqlite-moderation-store';

describeModerationStore('SqliteModerationStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-moderation-'));
  const path = join(dir, 'hubbub.db');
  return {
    open: async () => {
      const messages = new SqliteMessageStore({ path }); // runs the migrations (7: moderation)
      await messages.init();
      await messages.close();
      return new SqliteModerationStore(path);
    },
    destroy: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});
