import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteMessageEdits } from '../store/sqlite-message-edits';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { SQLITE_MIGRATIONS } from '../store/sqlite-migrations';
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

describe('SqliteReadMarkers on a database made before read markers (migration 6)', () => {
  it('lists the dm rooms already stored for both of their users, every message unread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-markers-up-'));
    const path = join(dir, 'hubbub.db');
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    for (const m of SQLITE_MIGRATIONS.filter((step) => step.version < 6)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    old.exec(`INSERT INTO rooms VALUES ('dm:ann:bo', 2), ('lobby', 1);
      INSERT INTO messages (id, room, seq, user_id, text, ts) VALUES
        ('m1', 'dm:ann:bo', 1, 'bo', 'hi', 1), ('m2', 'dm:ann:bo', 2, 'bo', 'there', 2),
        ('m3', 'lobby', 1, 'bo', 'all', 3);`);
    old.close();
    const store = new SqliteMessageStore({ path });
    try {
      await store.init();
      const markers = new SqliteReadMarkers(store);
      expect(await markers.rooms('ann', 10)).toEqual([
        { room: 'dm:ann:bo', seq: 2, lastRead: 0, unread: 2, mentions: 0 },
      ]);
      expect(await markers.rooms('bo', 10)).toEqual([
        { room: 'dm:ann:bo', seq: 2, lastRead: 0, unread: 0, mentions: 0 },
      ]);
      expect(await store.history({ room: 'lobby', limit: 10 })).toHaveLength(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
