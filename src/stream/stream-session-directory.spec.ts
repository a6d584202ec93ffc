import { newSessionId, nodeOfSession } from './stream-session-directory';

describe('stream session ids', () => {
  it('name their instance and carry 192 random bits', () => {
    const session = newSessionId('node-1:with.odd/chars');
    expect(nodeOfSession(session)).toBe('node-1:with.odd/chars');
    expect(session.split('.')[1]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newSessionId('n')).not.toBe(newSessionId('n'));
    expect(nodeOfSession('.abc')).toBeUndefined();
    expect(nodeOfSession('bm9kZQ.short')).toBeUndefined();
  });
});
