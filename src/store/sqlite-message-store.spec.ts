import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describeMessageStore } from './message-store.contract';
import { SqliteMessageEdits } from './sqlite-message-edits';
import { SqliteMessageStore } from './sqlite-message-store';
import { SQLITE_MIGRATIONS } from './sqlite-migrations';
import { describeWebhookOutbox } from './webhook-outbox.contract';

/** A fresh directory in os.tmpdir(); the db file sits in a not-yet-existing subdirectory. */
function tempDbPath(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-sqlite-'));
  return { dir, path: join(dir, 'nested', 'messages.db') };
}

describeMessageStore('SqliteMessageStore', () => {
  const { dir, path } = tempDbPath();
  return {
    open: () => new SqliteMessageStore({ path }),
    destroy: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});

describeWebhookOutbox('SqliteMessageStore', () => {
  const { dir, path } = tempDbPath();
  return {
    open: ({ outbox }) => new SqliteMessageStore({ path, outbox }),
    destroy: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});

describe('SqliteMessageStore specifics', () => {
  let dir: string;
  let path: string;
  let store: SqliteMessageStore;
  const dbOf = (s: SqliteMessageStore) => (s as unknown as { db: DatabaseSync }).db;

  beforeEach(async () => {
    ({ dir, path } = tempDbPath());
    store = new SqliteMessageStore({ path });
    await store.init();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('init creates the missing parent directory and the database file', () => {
    expect(existsSync(path)).toBe(true);
  });

  test('runs in WAL mode with synchronous=FULL so acknowledged writes survive power loss', () => {
    const db = dbOf(store);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 }); // 2 = FULL
    expect(Number(db.prepare('PRAGMA busy_timeout').get()?.timeout)).toBeGreaterThan(0);
  });

  test('records each migration once, even after repeated init on the same file', async () => {
    await store.init(); // same instance: no-op
    const second = new SqliteMessageStore({ path });
    await second.init(); // new connection: migrations already applied
    await second.close();
    const db = new DatabaseSync(path);
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(versions.map((r) => r.version)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
  });

  test('appends made in one event-loop turn are committed in a single transaction', async () => {
    const exec = jest.spyOn(DatabaseSync.prototype, 'exec');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.append({ room: 'r', userId: 'u', text: `${i}` })),
    );
    expect(exec.mock.calls.filter(([sql]) => sql === 'BEGIN IMMEDIATE')).toHaveLength(1);
    expect(exec.mock.calls.filter(([sql]) => sql === 'COMMIT')).toHaveLength(1);
  });

  test('outbox writes share the group commit with appends', async () => {
    const outboxStore = new SqliteMessageStore({ path, outbox: true });
    await outboxStore.init();
    const exec = jest.spyOn(DatabaseSync.prototype, 'exec');
    await Promise.all([
      outboxStore.append({ room: 'r', userId: 'u', text: 'x' }),
      outboxStore.enqueue([{ id: 'e1', type: 'room.occupied', ts: 1, data: { room: 'r' } }]),
      outboxStore.claimWebhooks(10, 1000),
    ]);
    expect(exec.mock.calls.filter(([sql]) => sql === 'COMMIT')).toHaveLength(1);
    await outboxStore.close(); // one more: the derived rows still waiting (SqliteDerivedRows)
    expect(exec.mock.calls.filter(([sql]) => sql === 'COMMIT')).toHaveLength(2);
  });

  test('writes full-text rows in bulk: a search is answered after the rows of every acknowledged message', async () => {
    const edits = new SqliteMessageEdits(store);
    const exec = jest.spyOn(DatabaseSync.prototype, 'exec');
    for (let i = 0; i < 3; i++) await store.append({ room: 'r', userId: 'u', text: `needle ${i}` });
    expect(exec.mock.calls.filter(([sql]) => sql === 'COMMIT')).toHaveLength(3);
    const found = await edits.search('r', ['needle'], Number.MAX_SAFE_INTEGER, 10);
    expect(found.map((m) => m.text)).toEqual(['needle 2', 'needle 1', 'needle 0']);
    expect(exec.mock.calls.filter(([sql]) => sql === 'COMMIT')).toHaveLength(4); // the three rows at once
  });

  test('a crash before the full-text rows were written: the next open indexes those messages', async () => {
    await store.append({ room: 'r', userId: 'u', text: 'kept row' });
    await store.indexed();
    // As a process that died before writing the row leaves the file: the message committed, no full-text row.
    const db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 5000');
    db.prepare(
      "INSERT INTO messages (id, room, seq, user_id, text, ts) VALUES ('m2', 'r', 2, 'u', 'lost row', 1)",
    ).run();
    db.close();
    const next = new SqliteMessageStore({ path });
    await next.init();
    const edits = new SqliteMessageEdits(next);
    const found = await edits.search('r', ['row'], Number.MAX_SAFE_INTEGER, 10);
    expect(found.map((m) => m.text)).toEqual(['lost row', 'kept row']);
    await next.close();
  });

  test('a resolved append is already committed: another connection reads it', async () => {
    const { message } = await store.append({ room: 'r', userId: 'u', text: 'durable' });
    const other = new DatabaseSync(path);
    const row = other.prepare('SELECT text, seq FROM messages WHERE id = ?').get(message.id);
    other.close();
    expect(row).toEqual({ text: 'durable', seq: 1 });
  });

  test('a duplicate clientMsgId within the same batch returns the original message', async () => {
    const [a, b] = await Promise.all([
      store.append({ room: 'r', userId: 'u', text: 'first', clientMsgId: 'c' }),
      store.append({ room: 'r', userId: 'u', text: 'second', clientMsgId: 'c' }),
    ]);
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ message: a.message, duplicate: true });
  });

  test('a failed batch rejects every append in it, persists none, and later appends continue gaplessly', async () => {
    await store.append({ room: 'r', userId: 'u', text: 'before' });
    // Fail the COMMIT of the next batch as a disk error would.
    const realExec = DatabaseSync.prototype.exec;
    const failCommit = jest.spyOn(DatabaseSync.prototype, 'exec').mockImplementation(function (
      this: DatabaseSync,
      sql: string,
    ) {
      if (sql === 'COMMIT') throw new Error('disk I/O error');
      return realExec.call(this, sql);
    });
    const batch = Array.from({ length: 3 }, (_, i) =>
      store.append({ room: 'r', userId: 'u', text: `lost${i}` }),
    );
    const settled = await Promise.allSettled(batch);
    failCommit.mockRestore();

    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await store.lastSeq('r')).toBe(1);
    expect((await store.history({ room: 'r', limit: 10 })).map((m) => m.text)).toEqual(['before']);
    expect((await store.append({ room: 'r', userId: 'u', text: 'after' })).message.seq).toBe(2);
  });
});
