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

  it('writes the moves of one round together (one per user and room, the furthest), and those queued during a write in the next round', async () => {
    writer.lingerMs = 20;
    const first = Array.from({ length: 50 }, (_, i) =>
      writer.move([{ userId: `u${i % 25}`, room: 'r', seq: i }]),
    );
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const advanceAll = markers.advanceAll.bind(markers);
    let second: Promise<void>[] = [];
    markers.advanceAll = async (moves) => {
      // The first round's write is under way: these wait for the next round.
      if (second.length === 0)
        second = Array.from({ length: 30 }, (_, i) =>
          writer.move([{ userId: `v${i}`, room: 'r', seq: i }]),
        );
      release();
      return advanceAll(moves);
    };
    await held;
    await Promise.all([...first, ...second]);
    expect(markers.writes).toEqual([25, 30]);
    expect(await markers.lastRead('u24', 'r')).toBe(49);
    expect(await markers.lastRead('u0', 'r')).toBe(25);
    expect(await markers.lastRead('v29', 'r')).toBe(29);
  });

  it('waits lingerMs for moves of markers it wrote, and ends the wait for one it has not written (a new marker lists the room)', async () => {
    writer.lingerMs = 60_000; // only a move of an unknown marker can end this wait within the test's time
    await writer.move([{ userId: 'ann', room: 'r', seq: 1 }]); // unknown: written in its own turn
    let done = false;
    const later = writer.move([{ userId: 'ann', room: 'r', seq: 2 }]).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false); // known: waiting for more
    const other = writer.move([{ userId: 'bob', room: 'r', seq: 1 }]);
    await Promise.all([later, other]);
    expect(markers.writes).toEqual([1, 2]);
    expect(await markers.lastRead('ann', 'r')).toBe(2);
    expect(await markers.lastRead('bob', 'r')).toBe(1);
  });

  it('a move never takes a marker back, in a round or across rounds', async () => {
    writer.lingerMs = 0;
    await writer.move([
      { userId: 'ann', room: 'r', seq: 9 },
      { userId: 'ann', room: 'r', seq: 4 },
    ]);
    await writer.move([{ userId: 'ann', room: 'r', seq: 5 }]);
    expect(await markers.lastRead('ann', 'r')).toBe(9);
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
    writer.lingerMs = 0;
    const moves = Array.from({ length: 110 }, (_, i) => ({ userId: `u${i}`, room: 'r', seq: 1 }));
    await writer.move(moves);
    expect(markers.writes).toEqual([100]);
    expect(await markers.lastRead('u99', 'r')).toBe(1);
    expect(await markers.lastRead('u100', 'r')).toBe(0);
  });
});
