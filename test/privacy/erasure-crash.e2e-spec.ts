import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMessageStore } from '../../src/store/sqlite-message-store';
import { type ChildServer, removeBuild, spawnServer } from '../support/child-server';
import { rid } from '../support/fixtures';
import { API_KEY, fill, lit, sqliteReader } from './privacy-support';

/**
 * An erasure cut short by kill -9 is finished by the next start, from its journal, with nobody asking again.
 * The compiled server as a child process on a SQLite file that outlives it.
 */
const TOTAL = 60_000;

describe('an erasure cut short by a crash', () => {
  let child: ChildServer | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    removeBuild();
  });

  it('is resumed at the next start and finished: every message a tombstone, the journal empty', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hubbub-crash-')), 'hubbub.db');
    const store = new SqliteMessageStore({ path });
    await store.init(); // the schema, as the server makes it
    await store.close();
    const [alice, room] = [`alice-${rid()}`, `crash-${rid()}`];
    fill(path, room, alice, TOTAL, 'private words number ', Date.now());
    const sql = sqliteReader(path);
    const erased = async (): Promise<number> =>
      Number(
        (
          await sql<{ n: number }>(
            `SELECT count(*) AS n FROM messages WHERE user_id = ${lit(alice)} AND deleted = 1 AND text = ''`,
          )
        )[0].n,
      );
    const env = { SQLITE_PATH: path, API_KEY, LOG_LEVEL: 'warn' };

    child = await spawnServer(env, 60_000);
    const request = fetch(`${child.url}/api/users/${alice}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${API_KEY}` },
    }).catch(() => undefined); // the process dies under it
    // Midway: some pages erased, not all. The state is in the file; nothing to await but it.
    while ((await erased()) === 0) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await child.waitForExit();
    await request;
    const done = await erased();
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(TOTAL);
    expect(await sql(`SELECT user_id FROM user_erasures`)).toEqual([{ user_id: alice }]);

    child = await spawnServer(env, 60_000);
    const deadline = Date.now() + 240_000;
    while ((await sql(`SELECT user_id FROM user_erasures`)).length > 0) {
      if (Date.now() > deadline)
        throw new Error(`erasure not finished: ${await erased()} of ${TOTAL}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await erased()).toBe(TOTAL);
    const left = await sql<{ n: number; lo: number; hi: number }>(
      `SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM messages WHERE room = ${lit(room)}`,
    );
    expect(left[0]).toEqual({ n: TOTAL, lo: 1, hi: TOTAL });
    const names = await sql(
      `SELECT seq FROM messages WHERE user_id = ${lit(alice)} AND (name IS NOT NULL OR text <> '') LIMIT 1`,
    );
    expect(names).toEqual([]);
    child.kill('SIGTERM');
    await child.waitForExit(15_000);
    child = undefined;
  }, 600_000);
});
