import {
  ALL_TOPIC,
  channelTopic,
  commandTopic,
  isBroadcastTopic,
  parseTopic,
  roomTopic,
  userTopic,
} from './topics';

describe('topics', () => {
  it('parses what each builder makes back into its kind and name', () => {
    expect(parseTopic(roomTopic('lobby'))).toEqual({ kind: 'room', name: 'lobby' });
    expect(parseTopic(roomTopic('dm:a:b'))).toEqual({ kind: 'room', name: 'dm:a:b' });
    expect(parseTopic(channelTopic('news#u1,u2'))).toEqual({ kind: 'channel', name: 'news#u1,u2' });
    expect(parseTopic(userTopic('alice'))).toEqual({ kind: 'user', userId: 'alice' });
    expect(parseTopic(ALL_TOPIC)).toEqual({ kind: 'all' });
    expect(parseTopic(commandTopic('disconnect'))).toEqual({
      kind: 'command',
      command: 'disconnect',
    });
  });

  it('rejects strings that are not topics', () => {
    expect(parseTopic('lobby')).toBeUndefined();
    expect(parseTopic('')).toBeUndefined();
  });

  it('marks only `all` and cluster commands as reaching every instance', () => {
    expect(isBroadcastTopic(ALL_TOPIC)).toBe(true);
    expect(isBroadcastTopic(commandTopic('disconnect'))).toBe(true);
    expect(isBroadcastTopic(roomTopic('all'))).toBe(false);
    expect(isBroadcastTopic(userTopic('x'))).toBe(false);
  });
});
