/**
 * Behaviour every ConnectionQuota backend must share. Not a spec file itself: the backend specs call
 * describeConnectionQuota(). User ids get a per-test random prefix.
 */
import type { ConnectionQuota } from './connection-quota';

export interface QuotaHarness {
  /** A new quota for the instance `node`, on storage that holds no counts yet. */
  open(node: string): ConnectionQuota;
  /** Loses the shared state (a Redis restart without persistence); only called when `spansInstances`. */
  loseState(): Promise<void>;
}

/**
 * `spansInstances`: quotas of different nodes count together (cluster backends). Otherwise each quota counts its
 * own instance, and the block between instances is skipped.
 */
export function describeConnectionQuota(
  name: string,
  harness: () => Promise<QuotaHarness>,
  { spansInstances }: { spansInstances: boolean },
): void {
  describe(`ConnectionQuota contract: ${name}`, () => {
    let h: QuotaHarness;
    let u: (name: string) => string;

    beforeEach(async () => {
      h = await harness();
      const run = Math.random().toString(36).slice(2, 10);
      u = (name) => `${run}-${name}`;
    });

    const acquireN = async (q: ConnectionQuota, user: string, n: number, max: number) => {
      const granted: boolean[] = [];
      for (let i = 0; i < n; i++) granted.push(await q.acquire(user, max));
      return granted;
    };

    it('grants up to the maximum per user and refuses beyond it', async () => {
      const q = h.open('a');
      expect(await acquireN(q, u('ann'), 3, 2)).toEqual([true, true, false]);
      expect(await q.acquire(u('bob'), 2)).toBe(true);
      expect(await q.userConnections(u('ann'))).toBe(2);
      expect(await q.userConnections(u('bob'))).toBe(1);
      expect(await q.userConnections(u('nobody'))).toBe(0);
      expect(await q.totalConnections()).toBe(3);
    });

    it('frees a slot on release, and never counts below zero', async () => {
      const q = h.open('a');
      await acquireN(q, u('ann'), 2, 2);
      await q.release(u('ann'));
      expect(await q.acquire(u('ann'), 2)).toBe(true);
      await acquireN(q, u('bob'), 1, 2);
      for (let i = 0; i < 3; i++) await q.release(u('bob'));
      expect(await q.userConnections(u('bob'))).toBe(0);
      expect(await q.totalConnections()).toBe(2);
      expect(await q.acquire(u('bob'), 1)).toBe(true);
      expect(await q.acquire(u('bob'), 1)).toBe(false);
    });

    it('restore() writes its counts again after the shared state was lost', async () => {
      const q = h.open('a');
      await acquireN(q, u('ann'), 2, 2);
      await h.loseState();
      await q.restore();
      await q.restore();
      expect(await q.userConnections(u('ann'))).toBe(2);
      expect(await q.totalConnections()).toBe(2);
      expect(await q.acquire(u('ann'), 2)).toBe(false);
    });

    (spansInstances ? describe : describe.skip)('between instances', () => {
      it('holds one maximum per user across instances and sums the counts', async () => {
        const [a, b] = [h.open('a'), h.open('b')];
        expect(await a.acquire(u('ann'), 2)).toBe(true);
        expect(await b.acquire(u('ann'), 2)).toBe(true);
        expect(await b.acquire(u('ann'), 2)).toBe(false);
        expect(await a.acquire(u('ann'), 2)).toBe(false);
        await b.acquire(u('bob'), 2);
        expect(await a.userConnections(u('ann'))).toBe(2);
        expect(await a.totalConnections()).toBe(3);
        await a.release(u('ann'));
        expect(await b.acquire(u('ann'), 2)).toBe(true);
        expect(await b.totalConnections()).toBe(3);
      });

      it('dropNode removes every count of that instance, and only of it', async () => {
        const [a, b] = [h.open('a'), h.open('b')];
        await a.acquire(u('ann'), 5);
        await b.acquire(u('ann'), 5);
        await b.acquire(u('bob'), 5);
        await a.dropNode('b');
        expect(await a.userConnections(u('ann'))).toBe(1);
        expect(await a.userConnections(u('bob'))).toBe(0);
        expect(await a.totalConnections()).toBe(1);
        expect(await a.acquire(u('bob'), 1)).toBe(true);
      });
    });
  });
}
