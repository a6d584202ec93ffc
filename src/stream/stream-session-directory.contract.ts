/**
 * Behaviour every StreamSessionDirectory backend must share. Not a spec file itself: the backend specs call
 * describeStreamSessionDirectory(). Node names get a per-test random suffix.
 */
import { newSessionId, type StreamSessionDirectory } from './stream-session-directory';

export interface DirectoryHarness {
  /** The directory of the instance `node`. */
  open(node: string): StreamSessionDirectory;
}

export function describeStreamSessionDirectory(
  name: string,
  harness: () => Promise<DirectoryHarness>,
  { spansInstances }: { spansInstances: boolean },
): void {
  describe(`StreamSessionDirectory contract: ${name}`, () => {
    let h: DirectoryHarness;
    let n: (name: string) => string;
    const opened: { dir: StreamSessionDirectory; node: string }[] = [];

    beforeEach(async () => {
      h = await harness();
      const run = Math.random().toString(36).slice(2, 10);
      n = (node) => `${node}-${run}`;
    });
    afterEach(async () => {
      for (const { dir, node } of opened.splice(0)) await dir.dropNode(node);
    });
    const open = (node: string): StreamSessionDirectory => {
      const dir = h.open(node);
      opened.push({ dir, node });
      return dir;
    };

    it('names the user of a registered session, and nobody for unknown or malformed ones', async () => {
      const node = n('a');
      const dir = open(node);
      const session = newSessionId(node);
      await dir.register(session, 'alice');
      expect(await dir.ownerOf(session)).toBe('alice');
      expect(await dir.ownerOf(newSessionId(node))).toBeUndefined();
      expect(await dir.ownerOf('not-a-session')).toBeUndefined();
      expect(await dir.ownerOf(`${session}x`)).toBeUndefined();
    });

    it('forgets a removed session', async () => {
      const node = n('a');
      const dir = open(node);
      const session = newSessionId(node);
      await dir.register(session, 'alice');
      await dir.remove(session);
      expect(await dir.ownerOf(session)).toBeUndefined();
    });

    it("drops every session of a gone instance, and only that instance's", async () => {
      const [a, b] = [n('a'), n('b')];
      const dirA = open(a);
      const dirB = spansInstances ? open(b) : dirA;
      const onA = [newSessionId(a), newSessionId(a)];
      const onB = newSessionId(b);
      for (const s of onA) await dirA.register(s, 'alice');
      await dirB.register(onB, 'bob');
      await dirA.dropNode(a);
      for (const s of onA) expect(await dirA.ownerOf(s)).toBeUndefined();
      expect(await dirB.ownerOf(onB)).toBe('bob');
    });

    if (spansInstances) {
      it("answers for another instance's sessions", async () => {
        const [a, b] = [n('a'), n('b')];
        const session = newSessionId(a);
        await open(a).register(session, 'alice');
        expect(await open(b).ownerOf(session)).toBe('alice');
      });
    }
  });
}
