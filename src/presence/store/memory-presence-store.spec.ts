import { MemoryPresenceStore } from './memory-presence-store';
import { describePresenceStore } from './presence-store.contract';

describePresenceStore('memory', (opts) => Promise.resolve(new MemoryPresenceStore(opts)));

describe('MemoryPresenceStore', () => {
  it('rejects an unknown status (it may come straight from a client frame)', async () => {
    const store = new MemoryPresenceStore();
    await store.connect({ connId: 'c', userId: 'u', node: 'n' });
    await expect(store.setStatus('u', 'gone' as never)).rejects.toThrow(RangeError);
  });
});
