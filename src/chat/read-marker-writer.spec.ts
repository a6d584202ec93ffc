import { SqliteMessageStore } from '../store/sqlite-message-store';
import { MAX_QUEUED_MOVES, ReadMarkerWriter } from './read-marker-writer';
import type { MarkerMove } from './read-markers';
import { SqliteReadMarkers } from './sqlite-read-markers';

/** The SQLite twin, counting the writes it is asked for. */
class CountingMarkers extends SqliteReadMarkers {
  writes: number[] = [];
  override advanceAll(moves: readonly MarkerMove[]): Promise<void> {
    this.writes.push(moves.length);
    return super.advanceAll(moves);
  }
}

describe('ReadMarkerWriter', () => {
  let store: SqliteMessageStore;
  let markers: CountingMarkers;
  let writer: ReadMarkerWriter;

  beforeEach(async () => {
    store = new SqliteMessageStore({ path: ':memory:' });
    await store.init();
    markers = new CountingMarkers(store);
    writer = new ReadMarkerWriter(markers);
  });
  afterEach(() => store.close());

  it('writes the moves of one turn together, and those queued during a write in the next one', async () => {
    const first = Array.from({ length: 50 }, (_, i) =>
      writer.move([{ userId: `u${i}`, room: 'r', seq: i }]),
    );
    await Promise.resolve(); // the first write starts
    await Promise.resolve();
    const second = Array.from({ length: 30 }, (_, i) =>
      writer.move([{ userId: `v${i}`, room: 'r', seq: i }]),
    );
    await Promise.all([...first, ...second]);
    expect(markers.writes).toEqual([50, 30]);
    expect(await markers.lastRead('u49', 'r')).toBe(49);
    expect(await markers.lastRead('v29', 'r')).toBe(29);
  });

  it("settled(user) resolves once that user's moves are written; at once for a user with none", async () => {
    void writer.move([{ userId: 'ann', room: 'r', seq: 7 }]);
    expect(await markers.lastRead('ann', 'r')).toBe(0);
    await writer.settled('ann');
    expect(await markers.lastRead('ann', 'r')).toBe(7);
    await writer.settled('nobody');
  });

  it(`holds at most maxQueued moves (${MAX_QUEUED_MOVES}), dropping the ones past it`, async () => {
    writer.maxQueued = 100;
    const moves = Array.from({ length: 110 }, (_, i) => ({ userId: `u${i}`, room: 'r', seq: 1 }));
    await writer.move(moves);
    expect(markers.writes).toEqual([100]);
    expect(await markers.lastRead('u99', 'r')).toBe(1);
    expect(await markers.lastRead('u100', 'r')).toBe(0);
  });
});
