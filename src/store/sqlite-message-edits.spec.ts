import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describeMessageEdits } from './message-edits.contract';
import { SqliteMessageEdits } from './sqlite-message-edits';
import { SqliteMessageStore } from './sqlite-message-store';
import { SQLITE_MIGRATIONS } from './sqlite-migrations';

describeMessageEdits('SqliteMessageEdits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-edits-'));
  const path = join(dir, 'messages.db');
  return {
    open: ({ outbox }) => {
      const store = new SqliteMessageStore({ path, outbox });
      return { store, edits: new SqliteMessageEdits(store) };
    },
    destroy: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});

describe('SqliteMessageEdits specifics', () => {
  let dir: string;
  let path: string;
  let store: SqliteMessageStore;
  let edits: SqliteMessageEdits;
  /** The raw bytes of the database file and its -wal file (the FTS5 index lives in the database file). */
  const onDisk = () =>
    Buffer.concat([
      readFileSync(path),
      existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0),
    ]);
  const rows = (sql: string, ...params: (string | number)[]) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return db.prepare(sql).all(...params);
    } finally {
      db.close();
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hubbub-edits-'));
    path = join(dir, 'messages.db');
    store = new SqliteMessageStore({ path, outbox: true }); // undelivered webhooks hold texts too
    edits = new SqliteMessageEdits(store);
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a deleted text is in neither the database file, its full-text index nor the -wal file', async () => {
    const secret = 'Zqxjvbw' + randomBytes(6).toString('hex');
    const edited = 'Ykwpqzd' + randomBytes(6).toString('hex');
    for (let i = 0; i < 50; i++)
      await store.append({ room: 'r', userId: 'u', text: `filler ${i}` });
    await store.append({
      room: 'r',
      userId: 'u',
      name: 'Nameless',
      text: `before ${secret} after`,
    });
    await store.append({ room: 'r', userId: 'u', text: `${edited} will be edited away` });
    await store.indexed(); // the full-text rows are written in bulk
    // While stored, both words are on disk (so the check below can see them at all).
    expect(onDisk().includes(secret)).toBe(true);
    expect(onDisk().includes(secret.toLowerCase())).toBe(true); // the FTS5 token
    await edits.edit('r', 52, { text: 'something else', editedAt: Date.now() });
    await edits.delete('r', 52, 'u');
    await edits.delete('r', 51, 'u');
    const bytes = onDisk();
    for (const word of [secret, secret.toLowerCase(), edited, edited.toLowerCase(), 'Nameless']) {
      expect(bytes.includes(word)).toBe(false);
    }
    expect(statSync(`${path}-wal`).size).toBe(0);
    expect(rows('SELECT text, name, deleted FROM messages WHERE seq = 51')).toEqual([
      { text: '', name: null, deleted: 1 },
    ]);
  });

  test('mentions and reactions are rows beside the message, replaced on edit and erased on delete', async () => {
    await store.append({ room: 'r', userId: 'u', text: '@a @b', mentions: ['a', 'b'] });
    await edits.react('r', 1, { reaction: 'x', userId: 'a', on: true, ts: 1 });
    expect(rows('SELECT user_id FROM message_mentions ORDER BY user_id')).toEqual([
      { user_id: 'a' },
      { user_id: 'b' },
    ]);
    await edits.edit('r', 1, { text: '@c', mentions: ['c'], editedAt: 1 });
    expect(rows('SELECT room, seq, user_id FROM message_mentions')).toEqual([
      { room: 'r', seq: 1, user_id: 'c' },
    ]);
    expect(rows('SELECT reaction, user_id FROM message_reactions')).toEqual([
      { reaction: 'x', user_id: 'a' },
    ]);
    await edits.delete('r', 1, 'u');
    expect(rows('SELECT * FROM message_mentions')).toEqual([]);
    expect(rows('SELECT * FROM message_reactions')).toEqual([]);
  });

  test('a change in the same group commit as the append of its message finds it indexed', async () => {
    const [, , deleted, edited] = await Promise.all([
      store.append({ room: 'r', userId: 'u', text: 'doomed words' }),
      store.append({ room: 'r', userId: 'u', text: 'changing words' }),
      edits.delete('r', 1, 'u'),
      edits.edit('r', 2, { text: 'changed', editedAt: 1 }),
    ]);
    expect(deleted?.changed).toBe(true);
    expect(edited?.text).toBe('changed');
    const search = (w: string) => edits.search('r', [w], Number.MAX_SAFE_INTEGER, 10);
    expect(await search('words')).toEqual([]);
    expect((await search('changed')).map((m) => m.seq)).toEqual([2]);
    const db = store.database();
    db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`);
  });

  test('search reads the full-text index newest first and stops at the limit', () => {
    const plan = rows(
      `EXPLAIN QUERY PLAN SELECT m.seq FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
       WHERE messages_fts MATCH 'x' AND f.rowid <= 5 AND m.room = 'r' ORDER BY f.rowid DESC LIMIT 5`,
    ) as { detail: string }[];
    expect(plan[0].detail).toMatch(/VIRTUAL TABLE INDEX/);
    expect(plan.map((p) => p.detail).join('\n')).not.toMatch(/TEMP B-TREE/);
  });
});

describe('SQLite upgrade from the schema of the previous release (version 3)', () => {
  test('a database made before the chat-lifecycle migration opens with its history intact, searchable and editable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-upgrade-'));
    const path = join(dir, 'old.db');
    try {
      // The previous release's schema: the migrations list is append-only, so its first three steps are it.
      const old = new DatabaseSync(path);
      old.exec('PRAGMA journal_mode = WAL');
      old.exec(`CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
      for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 3)) {
        old.exec(m.sql);
        old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 1);
      }
      old.exec(`INSERT INTO rooms VALUES ('r', 3);
        INSERT INTO messages (id, room, seq, user_id, name, text, ts, client_msg_id) VALUES
          ('00000000-0000-4000-8000-000000000001', 'r', 1, 'u', 'U', 'Old Hello world', 10, 'c1'),
          ('00000000-0000-4000-8000-000000000002', 'r', 2, 'v', NULL, 'second words', 20, NULL),
          ('00000000-0000-4000-8000-000000000003', 'r', 3, 'u', NULL, 'hello again', 30, NULL);`);
      old.close();

      const store = new SqliteMessageStore({ path });
      const edits = new SqliteMessageEdits(store);
      await store.init();
      try {
        expect(await store.history({ room: 'r', limit: 10 })).toEqual([
          {
            id: '00000000-0000-4000-8000-000000000001',
            room: 'r',
            seq: 1,
            userId: 'u',
            name: 'U',
            text: 'Old Hello world',
            ts: 10,
            clientMsgId: 'c1',
          },
          {
            id: '00000000-0000-4000-8000-000000000002',
            room: 'r',
            seq: 2,
            userId: 'v',
            text: 'second words',
            ts: 20,
          },
          {
            id: '00000000-0000-4000-8000-000000000003',
            room: 'r',
            seq: 3,
            userId: 'u',
            text: 'hello again',
            ts: 30,
          },
        ]);
        const found = await edits.search('r', ['hello'], Number.MAX_SAFE_INTEGER, 10);
        expect(found.map((m) => m.seq)).toEqual([3, 1]);
        expect((await edits.delete('r', 1, 'u'))?.changed).toBe(true);
        expect(
          (await edits.search('r', ['hello'], Number.MAX_SAFE_INTEGER, 10)).map((m) => m.seq),
        ).toEqual([3]);
        expect(
          (await store.append({ room: 'r', userId: 'u', text: 'new', replyTo: 2 })).message,
        ).toMatchObject({ seq: 4, replyTo: 2 });
        expect(
          (await store.append({ room: 'r', userId: 'u', text: 'x', clientMsgId: 'c1' })).duplicate,
        ).toBe(true);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
