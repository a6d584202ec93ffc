import { SqliteMessageStore } from '../store/sqlite-message-store';
import type { ReadMarker } from './read-markers';
import { ReadMarkersUserData } from './read-markers-user-data';
import { SqliteReadMarkers } from './sqlite-read-markers';

describe('ReadMarkersUserData (the readMarkers part of a person export and erasure)', () => {
  let store: SqliteMessageStore;
  let markers: SqliteReadMarkers;
  let part: ReadMarkersUserData;

  beforeEach(async () => {
    store = new SqliteMessageStore({ path: ':memory:' });
    await store.init();
    markers = new SqliteReadMarkers(store);
    part = new ReadMarkersUserData(markers);
  });
  afterEach(() => store.close());

  const all = async (userId: string): Promise<ReadMarker[]> => {
    const out: ReadMarker[] = [];
    for await (const m of part.export(userId)) out.push(m);
    return out;
  };

  it('exports every marker of the user, over several pages, by room name, and nobody else', async () => {
    const rooms = Array.from({ length: 600 }, (_, i) => `r${String(i).padStart(4, '0')}`);
    await Promise.all(rooms.map((room, i) => markers.advance('ann', room, i)));
    await markers.advance('bo', 'r0001', 7);
    const exported = await all('ann');
    expect(part.name).toBe('readMarkers');
    expect(exported.map((m) => m.room)).toEqual(rooms);
    expect(exported[3]).toEqual({ room: 'r0003', seq: 3, updatedAt: expect.any(Number) as number });
    expect(await all('nobody')).toEqual([]);
  });

  it('erases them all, again without harm, leaving other users alone', async () => {
    await Promise.all(Array.from({ length: 700 }, (_, i) => markers.advance('ann', `room${i}`, 0)));
    await markers.advance('bo', 'room1', 1);
    await part.erase('ann');
    expect(await all('ann')).toEqual([]);
    await part.erase('ann');
    expect((await all('bo')).map((m) => [m.room, m.seq])).toEqual([['room1', 1]]);
  });
});
