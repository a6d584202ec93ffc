import { CHANNEL_NAME_PATTERN, channelUsers, dmPeer, dmRoom, NAME_PATTERN } from './names';

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

describe('channel names', () => {
  it('accepts plain names and names ending with a user limit of one or more ids', () => {
    for (const name of [
      'news',
      'private:team.1',
      'dialog#42',
      'dialog#alice,bob',
      'a#b:c,d_e.f-g',
    ]) {
      expect(CHANNEL_NAME_PATTERN.test(name)).toBe(true);
    }
  });

  it('refuses an empty base, an empty id, a second # and characters outside the alphabet', () => {
    for (const name of [
      '',
      '#alice',
      'news#',
      'news#a,',
      'news#,a',
      'news#a#b',
      'ne ws',
      'news#a b',
      'news#é',
    ]) {
      expect(CHANNEL_NAME_PATTERN.test(name)).toBe(false);
    }
  });

  it('counts the user limit in the 128-character bound', () => {
    expect(CHANNEL_NAME_PATTERN.test(`${'c'.repeat(120)}#${'u'.repeat(7)}`)).toBe(true);
    expect(CHANNEL_NAME_PATTERN.test(`${'c'.repeat(120)}#${'u'.repeat(8)}`)).toBe(false);
  });

  it('keeps # out of room names', () => {
    expect(NAME_PATTERN.test('room#alice')).toBe(false);
  });

  it('names the users of a user-limited channel', () => {
    expect(channelUsers('dialog#alice,bob')).toEqual(['alice', 'bob']);
    expect(channelUsers('private:x#alice')).toEqual(['alice']);
    expect(channelUsers('news')).toBeUndefined();
  });
});
