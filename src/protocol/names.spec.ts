import { dmPeer, dmRoom } from './names';

describe('dm room names', () => {
  it('sorts the two user ids so both sides name the same room', () => {
    expect(dmRoom('bob', 'alice')).toBe('dm:alice:bob');
    expect(dmRoom('alice', 'bob')).toBe('dm:alice:bob');
  });

  it('has no room for ids that would make the name ambiguous or invalid', () => {
    expect(dmRoom('u', 'v:w')).toBeUndefined();
    expect(dmRoom('a@example.com', 'b')).toBeUndefined();
    expect(dmRoom('a'.repeat(70), 'b'.repeat(70))).toBeUndefined();
  });

  it('names the peer only for one of the two users of a well-formed dm room', () => {
    expect(dmPeer('dm:alice:bob', 'alice')).toBe('bob');
    expect(dmPeer('dm:alice:bob', 'bob')).toBe('alice');
    expect(dmPeer('dm:alice:bob', 'carol')).toBeUndefined();
    expect(dmPeer('dm:bob:alice', 'alice')).toBeUndefined(); // not sorted: not a server-made room
    expect(dmPeer('dm:u:v:w', 'u')).toBeUndefined();
    expect(dmPeer('lobby', 'alice')).toBeUndefined();
  });

  it('gives a conversation with oneself its own room', () => {
    expect(dmRoom('alice', 'alice')).toBe('dm:alice:alice');
    expect(dmPeer('dm:alice:alice', 'alice')).toBe('alice');
  });
});
