import {
  Matches,
  ValidateBy,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

/** A name's error in words: a missing one is `required`, a wrong one says what is allowed (never a raw regex). */
const nameMessage =
  (rule: string) =>
  ({ property, value }: ValidationArguments): string =>
    value === undefined || value === null
      ? `${property} is required`
      : typeof value !== 'string'
        ? `${property} must be a string`
        : `${property} must be ${rule}`;

/** Names of rooms and channels. */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const IsName = (): PropertyDecorator =>
  Matches(NAME_PATTERN, {
    message: nameMessage('1 to 128 characters, each a letter, digit, _ . : or -'),
  });

/**
 * Names of channels: a room-style name, optionally ending with a user limit `#<id>[,<id>…]` (Centrifugo's
 * convention), 128 characters at most in all.
 */
export const CHANNEL_NAME_PATTERN =
  /^(?=.{1,128}$)[A-Za-z0-9_.:-]+(?:#[A-Za-z0-9_.:-]+(?:,[A-Za-z0-9_.:-]+)*)?$/;
export const IsChannelName = (): PropertyDecorator =>
  Matches(CHANNEL_NAME_PATTERN, {
    message: nameMessage(
      '1 to 128 characters, each a letter, digit, _ . : or -, optionally ending with #<id>[,<id>…]',
    ),
  });

/** The users a channel is limited to (`news#alice,bob` → alice, bob), or undefined when it has no limit. */
export function channelUsers(channel: string): string[] | undefined {
  const hash = channel.indexOf('#');
  return hash < 0 ? undefined : channel.slice(hash + 1).split(',');
}

/**
 * User ids that can take part in a `dm:<a>:<b>` room. The room name must itself be a valid name and must say
 * unambiguously who its two users are, so ids with `:` or characters outside the name alphabet cannot
 * (`dm:u:v:w` could be u with v:w or u:v with w).
 */
const DM_USER_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** The room of a direct conversation: `dm:<a>:<b>` with the two user ids sorted; undefined when impossible. */
export function dmRoom(a: string, b: string): string | undefined {
  if (!DM_USER_PATTERN.test(a) || !DM_USER_PATTERN.test(b)) return undefined;
  const room = a < b ? `dm:${a}:${b}` : `dm:${b}:${a}`;
  return room.length <= 128 ? room : undefined;
}

/** The other participant when `userId` is one of the two users of a `dm:` room, else undefined. */
export function dmPeer(room: string, userId: string): string | undefined {
  const parts = room.split(':');
  if (parts.length !== 3 || parts[0] !== 'dm') return undefined;
  const [, a, b] = parts;
  if (dmRoom(a, b) !== room) return undefined;
  return a === userId ? b : b === userId ? a : undefined;
}

/** The property must be present, with any JSON value, `null` included (unlike IsDefined). */
export const IsPresent = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isPresent',
      validator: {
        // Class fields exist (as undefined) on every DTO instance, so presence means "not undefined".
        validate: (value) => value !== undefined,
        defaultMessage: (args) => `${args?.property ?? 'value'} must be present`,
      },
    },
    options,
  );
