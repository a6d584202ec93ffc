import type { ModerationStore, StoredStanding } from '../store/moderation-store';
import { RoomRules, RULES_CACHE_SIZE } from './room-rules';

/** A store whose standing() answers when the test says, counting reads. */
function fakeStore() {
  let role: StoredStanding['role'] = 'member';
  const pending: (() => void)[] = [];
  let hold = false;
  const store = {
    reads: 0,
    setRole: (r: StoredStanding['role']) => (role = r),
    hold: () => (hold = true),
    releaseAll: () => {
      hold = false;
      for (const p of pending.splice(0)) p();
    },
    standing: () => {
      store.reads++;
      const answer = { role };
      if (!hold) return Promise.resolve(answer);
      return new Promise<StoredStanding>((resolve) => pending.push(() => resolve(answer)));
    },
    settings: () => Promise.resolve({}),
  };
  return store;
}

describe('RoomRules', () => {
  it('caches a standing until a change is heard', async () => {
    const store = fakeStore();
    const rules = new RoomRules(store as unknown as ModerationStore);
    expect(await rules.standing('r', 'u')).toEqual({ role: 'member' });
    expect(await rules.standing('r', 'u')).toEqual({ role: 'member' });
    expect(store.reads).toBe(1);
    store.setRole('moderator');
    rules.changed({ room: 'r', userId: 'u', action: 'role' });
    expect(await rules.standing('r', 'u')).toEqual({ role: 'moderator' });
  });

  it('reads again when a change lands while a read is in flight (no stale answer cached or used)', async () => {
    const store = fakeStore();
    const rules = new RoomRules(store as unknown as ModerationStore);
    store.hold();
    const read = rules.standing('r', 'u');
    store.setRole('owner'); // committed after the read was sent, announced before it answers
    rules.changed({ room: 'r', userId: 'u', action: 'role' });
    store.releaseAll();
    expect(await read).toEqual({ role: 'owner' });
    expect(store.reads).toBe(2);
  });

  it('holds at most RULES_CACHE_SIZE entries', async () => {
    const store = fakeStore();
    const rules = new RoomRules(store as unknown as ModerationStore);
    for (let i = 0; i < RULES_CACHE_SIZE + 500; i++) await rules.standing('r', `u${i}`);
    expect(rules.cached).toBe(RULES_CACHE_SIZE);
  });
});
