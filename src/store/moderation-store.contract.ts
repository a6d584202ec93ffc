/**
 * Behavioural suite every ModerationStore implementation must pass. Not a spec file itself: the backend specs
 * call describeModerationStore().
 */
import type { ModerationStore } from './moderation-store';

export interface ModerationHarness {
  /** A NEW store on this harness's database, whose migrations already ran (init is called by the suite). */
  open(): Promise<ModerationStore>;
  destroy(): Promise<void>;
}

export function describeModerationStore(
  name: string,
  factory: () => ModerationHarness | Promise<ModerationHarness>,
): void {
  describe(`${name} (ModerationStore contract)`, () => {
    let harness: ModerationHarness;
    let store: ModerationStore;
    let n = 0;
    const room = (): string => `room-${++n}-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      harness = await factory();
      store = await harness.open();
      await store.init();
    });
    afterAll(async () => {
      await store?.close();
      await harness?.destroy();
    });

    it('knows nothing of a user never acted on: a member without ban or mute', async () => {
      expect(await store.standing(room(), 'alice')).toEqual({ role: 'member' });
      expect(await store.settings(room())).toEqual({});
      expect(await store.staff(room())).toEqual({ owners: [], moderators: [] });
    });

    it('records roles, bans and mutes with their audit entries, and lifts them', async () => {
      const r = room();
      await store.record({ room: r, action: 'role', userId: 'bob', by: 'server', role: 'owner' });
      await store.record({ room: r, action: 'role', userId: 'amy', by: 'bob', role: 'moderator' });
      await store.record({
        room: r,
        action: 'ban',
        userId: 'eve',
        by: 'bob',
        until: 9e12,
        reason: 'spam',
      });
      await store.record({ room: r, action: 'mute', userId: 'eve', by: 'bob' });
      expect(await store.standing(r, 'eve')).toEqual({
        role: 'member',
        ban: { until: 9e12, reason: 'spam' },
        mute: {},
      });
      expect(await store.staff(r)).toEqual({ owners: ['bob'], moderators: ['amy'] });
      await store.record({ room: r, action: 'unban', userId: 'eve', by: 'amy' });
      await store.record({ room: r, action: 'unmute', userId: 'eve', by: 'amy' });
      await store.record({ room: r, action: 'role', userId: 'amy', by: 'bob', role: 'member' });
      expect(await store.standing(r, 'eve')).toEqual({ role: 'member' });
      expect(await store.staff(r)).toEqual({ owners: ['bob'], moderators: [] });
      const audit = await store.audit(r, undefined, 100);
      expect(audit.map((e) => [e.action, e.userId, e.by])).toEqual([
        ['role', 'amy', 'bob'],
        ['unmute', 'eve', 'amy'],
        ['unban', 'eve', 'amy'],
        ['mute', 'eve', 'bob'],
        ['ban', 'eve', 'bob'],
        ['role', 'amy', 'bob'],
        ['role', 'bob', 'server'],
      ]);
      const { ts, ...ban } = audit[4];
      expect(typeof ts).toBe('number');
      expect(ban).toEqual({
        action: 'ban',
        userId: 'eve',
        by: 'bob',
        until: 9e12,
        reason: 'spam',
      });
      expect(audit[6].role).toBe('owner');
    });

    it('gives audit entries unique, increasing ts per room, also when written at once', async () => {
      const r = room();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.record({ room: r, action: 'kick', userId: `u${i}`, by: 'mod' }),
        ),
      );
      const all = await store.audit(r, undefined, 100);
      expect(all).toHaveLength(20);
      expect(new Set(all.map((e) => e.ts)).size).toBe(20);
      const page1 = await store.audit(r, undefined, 8);
      const page2 = await store.audit(r, page1[7].ts, 8);
      const page3 = await store.audit(r, page2[7].ts, 8);
      expect([...page1, ...page2, ...page3]).toEqual(all);
    });

    it('replaces settings, clears them, and lists rooms with their own retention', async () => {
      const r = room();
      await store.record({
        room: r,
        action: 'settings',
        userId: 'o',
        by: 'o',
        settings: { retentionDays: 3, slowModeMs: 500 },
      });
      expect(await store.settings(r)).toEqual({ retentionDays: 3, slowModeMs: 500 });
      const listed = await store.retentionRooms(undefined, 100_000);
      expect(listed).toContainEqual({ room: r, retentionDays: 3 });
      await store.record({ room: r, action: 'settings', userId: 'o', by: 'o', settings: {} });
      expect(await store.settings(r)).toEqual({});
      expect((await store.audit(r, undefined, 1))[0].settings).toEqual({});
    });

    it('pages and erases the roles of a user (idempotent)', async () => {
      const user = `person-${Math.random().toString(36).slice(2, 8)}`;
      const rooms = [room(), room(), room()].sort();
      for (const r of rooms)
        await store.record({
          room: r,
          action: 'role',
          userId: user,
          by: 'server',
          role: 'moderator',
        });
      const first = await store.rolesOf(user, undefined, 2);
      const rest = await store.rolesOf(user, first[1].room, 2);
      expect([...first, ...rest]).toEqual(rooms.map((r) => ({ room: r, role: 'moderator' })));
      expect(await store.eraseRoles(user)).toBe(3);
      expect(await store.eraseRoles(user)).toBe(0);
      expect(await store.rolesOf(user, undefined, 10)).toEqual([]);
    });
  });
}
