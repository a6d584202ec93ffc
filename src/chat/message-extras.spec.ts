import { mentionTokens } from './message-extras';

describe('mentionTokens', () => {
  it.each([
    ['hi @bob', ['bob']],
    ['@bob, @carol-1 and @bob again', ['bob', 'carol-1']],
    ['thanks @bob. see @dave-', ['bob', 'dave']],
    ['@a.b_c @x', ['a.b_c', 'x']],
    ['mail me@example.com or x@y', []],
    ['word@bob @@bob', []],
    ['(@bob) [@carol]', ['bob', 'carol']],
    ['@', []],
    ['@-bob @.bob @_bob', ['_bob']],
    [`@${'a'.repeat(128)} @${'b'.repeat(129)}`, ['a'.repeat(128)]],
  ])('%j mentions %j', (text, users) => {
    expect(mentionTokens(text)).toEqual(users);
  });
});
