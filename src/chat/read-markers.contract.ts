/**
 * Behavioural suite both ReadMarkers twins must pass, each on the message store it lives in. Not a spec file
 * itself: the backend specs call describeReadMarkers().
 */
import type { MessageEdits } from '../store/message-edits';
import type { MessageStore } from '../store/message-store';
import { MAX_MARKERS_PER_USER, type ReadMarkers, UNREAD_CAP } from './read-markers';

export interface ReadMarkersHarness {
  /** A new, initialised store on fresh storage and the markers kept in it. */
  open(): Promise<{ store: MessageStore; edits: MessageEdits; markers: ReadMarkers }>;
  /** Closes the store and deletes its storage. */
  destroy(): Promise<void>;
}

export function describeReadMarkers(name: string, harness: () => ReadMarkersHarness): void {
  describe(`${name} (ReadMarkers contract)`, () => {
    let h: ReadMarkersHarness;
    let store: MessageStore;
    let markers: ReadMarkers;
    let edits: MessageEdits;
    let n = 0;
    const fresh = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
    const post = (room: string, userId: string, count = 1) =>
      Promise.all(
        Array.from({ length: count }, (_, i) => store.append({ room, userId, text: `t${i}` })),
      );

    beforeAll(async () => {
      h = harness();
      ({ store, markers, edits } = await h.open());
    });
    afterAll(() => h.destroy());

    it('has no marker (0) until one is set, and moves it forward only', async () => {
      const [room, user] = [fresh('room'), fresh('user')];
      expect(await markers.lastRead(user, room)).toBe(0);
      expect(await markers.advance(user, room, 3)).toBe(3);
      expect(await markers.advance(user, room, 1)).toBe(3);
      expect(await markers.lastRead(user, room)).toBe(3);
      expect(await markers.advance(user, room, 5)).toBe(5);
      expect(await markers.lastRead(user, room)).toBe(5);
    });

    it("counts only other users' messages above the marker", async () => {
      const [room, me, other] = [fresh('room'), fresh('me'), fresh('other')];
      await post(room, other, 3);
      await post(room, me, 2);
      await post(room, other, 1);
      const seq = await store.lastSeq(room);
      expect(await markers.unread(me, room, 0, seq)).toEqual({ unread: 4, mentions: 0 });
      expect(await markers.unread(me, room, 3, seq)).toEqual({ unread: 1, mentions: 0 });
      expect(await markers.unread(me, room, seq, seq)).toEqual({ unread: 0, mentions: 0 });
    });

    it('leaves deleted messages out, and counts those that mention the user', async () => {
      const [room, me, other] = [fresh('room'), fresh('me'), fresh('other')];
      await post(room, other, 2);
      await store.append({ room, userId: other, text: `@${me}`, mentions: [me] });
      await store.append({ room, userId: other, text: `@${me} again`, mentions: [me, other] });
      await store.append({ room, userId: other, text: `@${me} gone`, mentions: [me] });
      await edits.delete(room, 5, other);
      await edits.delete(room, 1, other);
      expect(await markers.unread(me, room, 0, 5)).toEqual({ unread: 3, mentions: 2 });
      expect(await markers.unread(me, room, 3, 5)).toEqual({ unread: 1, mentions: 1 });
      expect(await markers.unread(other, room, 0, 5)).toEqual({ unread: 0, mentions: 0 });
      await markers.advance(me, room, 2);
      expect((await markers.rooms(me, 10))[0]).toEqual({
        room,
        seq: 5,
        lastRead: 2,
        unread: 2,
        mentions: 2,
      });
    });

    it(`caps unread at ${UNREAD_CAP}`, async () => {
      const [room, me, other] = [fresh('room'), fresh('me'), fresh('other')];
      await post(room, other, UNREAD_CAP + 5);
      const seq = await store.lastSeq(room);
      expect((await markers.unread(me, room, 0, seq)).unread).toBe(UNREAD_CAP);
      expect((await markers.unread(me, room, 10, seq)).unread).toBe(UNREAD_CAP - 5);
      await markers.advance(me, room, 0);
      expect((await markers.rooms(me, 10))[0]).toMatchObject({ room, unread: UNREAD_CAP });
    }, 60_000);

    it('lists the rooms with a marker, the one with the newest message first, at most `limit`', async () => {
      const [a, b, c, me, other] = ['a', 'b', 'c', 'me', 'other'].map(fresh);
      // Messages a few ms apart: the order is by their ts.
      const later = () => new Promise((r) => setTimeout(r, 3));
      await post(a, other);
      await later();
      await post(b, other, 2);
      await later();
      await post(c, me);
      await markers.advance(me, b, 1);
      await markers.advance(me, a, 0);
      await markers.advance(me, c, 1);
      await later();
      await post(a, other); // a is now the room with the newest message
      expect(await markers.rooms(me, 10)).toEqual([
        { room: a, seq: 2, lastRead: 0, unread: 2, mentions: 0 },
        { room: c, seq: 1, lastRead: 1, unread: 0, mentions: 0 },
        { room: b, seq: 2, lastRead: 1, unread: 1, mentions: 0 },
      ]);
      expect((await markers.rooms(me, 2)).map((r) => r.room)).toEqual([a, c]);
      expect(await markers.rooms(fresh('nobody'), 10)).toEqual([]);
    });

    it("makes a dm peer's marker at 0 without moving one it has", async () => {
      const [me, peer] = [fresh('me'), fresh('peer')];
      const room = `dm:${[me, peer].sort().join(':')}`;
      await post(room, me, 2);
      const dm = (seq: number) => [
        { userId: me, room, seq },
        { userId: peer, room, seq: 0 },
      ];
      await markers.advanceAll(dm(2));
      expect(await markers.lastRead(me, room)).toBe(2);
      expect(await markers.lastRead(peer, room)).toBe(0);
      expect((await markers.rooms(peer, 10))[0]).toMatchObject({ room, lastRead: 0, unread: 2 });
      await markers.advance(peer, room, 1);
      await markers.advanceAll([...dm(2), ...dm(1), { userId: me, room, seq: 1 }]);
      expect(await markers.lastRead(peer, room)).toBe(1);
      expect(await markers.lastRead(me, room)).toBe(2);
      await markers.advanceAll([]);
    });

    it('forgets a marker, or sets it back to 0 when kept', async () => {
      const [a, b, me] = [fresh('a'), fresh('b'), fresh('me')];
      await markers.advance(me, a, 0);
      await markers.advance(me, b, 0);
      await markers.forget(me, a, false);
      await markers.forget(me, b, true);
      expect((await markers.rooms(me, 10)).map((r) => [r.room, r.lastRead])).toEqual([[b, 0]]);
      await markers.forget(me, a, false); // nothing left to forget: fine
    });

    it(`holds at most ${MAX_MARKERS_PER_USER} markers per user, dropping the least recently moved`, async () => {
      const me = fresh('me');
      const rooms = Array.from(
        { length: MAX_MARKERS_PER_USER + 1 },
        (_, i) => `r${String(i).padStart(5, '0')}-${me}`,
      );
      await markers.advance(me, rooms[0], 0);
      await markers.advance(me, rooms[1], 0);
      await new Promise((r) => setTimeout(r, 5)); // later than the first two
      await markers.advance(me, rooms[0], 1); // moved: now among the most recent
      for (const room of rooms.slice(2)) await markers.advance(me, room, 0);
      const kept: string[] = [];
      for (let after: string | undefined; ;) {
        const page = await markers.page(me, after, 300);
        if (page.length === 0) break;
        kept.push(...page.map((m) => m.room));
        after = page.at(-1)!.room;
      }
      expect(kept).toHaveLength(MAX_MARKERS_PER_USER);
      expect(kept).toContain(rooms[0]);
      expect(kept).not.toContain(rooms[1]);
      expect(kept).toContain(rooms[MAX_MARKERS_PER_USER]);
    }, 120_000);

    it("erases a user's markers in batches and nobody else's", async () => {
      const [me, other] = [fresh('me'), fresh('other')];
      for (const room of ['x', 'y', 'z']) await markers.advance(me, `${room}-${me}`, 0);
      await markers.advance(other, `x-${me}`, 0);
      expect(await markers.erase(me, 2)).toBe(2);
      expect(await markers.erase(me, 2)).toBe(1);
      expect(await markers.erase(me, 2)).toBe(0);
      expect(await markers.page(me, undefined, 10)).toEqual([]);
      const left = await markers.page(other, undefined, 10);
      expect(left.map((m) => [m.room, m.seq, typeof m.updatedAt])).toEqual([
        [`x-${me}`, 0, 'number'],
      ]);
    });
  });
}
