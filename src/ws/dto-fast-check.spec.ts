import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import fc from 'fast-check';
import * as channels from '../channels/channels.dto';
import * as chatEdits from '../chat/chat-edits.dto';
import * as chat from '../chat/chat.dto';
import * as unread from '../chat/unread.dto';
import * as core from '../core/core.dto';
import * as moderation from '../moderation/moderation.dto';
import * as presence from '../presence/presence.dto';
import { quickCheckOf } from './dto-fast-check';
import { createWsValidationPipe } from './ws-validation.pipe';

type Dto = new () => object;

/** Every DTO class of the socket's events. */
const DTOS: [string, Dto][] = Object.entries({
  ...channels,
  ...chatEdits,
  ...chat,
  ...unread,
  ...core,
  ...moderation,
  ...presence,
}).filter(
  (e): e is [string, Dto] =>
    typeof e[1] === 'function' && e[0].endsWith('Dto') && e[1].length === 0,
);

/** The options of the socket's pipe (createWsValidationPipe), for class-validator run directly. */
const OPTIONS = {
  whitelist: true,
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
};

const keysOf = (dto: Dto): string[] => [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(dto, '', false, false)
      .map((m) => m.propertyName),
  ),
];

/** Values near and across the rules' edges: names, lengths, control characters, numbers, enums, lists. */
const value = fc.oneof(
  fc.constantFrom('a.b-c_d', 'private:x', 'dm:a:b', 'feed-1', '', ' ', 'a\u0000b', 'é', '\ud800'),
  fc.constantFrom('owner', 'moderator', 'away', 'busy', 'offline', 'x'),
  fc.string({ maxLength: 6 }),
  fc.string({ minLength: 120, maxLength: 140 }),
  fc.constantFrom('x'.repeat(4000), 'x'.repeat(4001), 'x'.repeat(128), 'x'.repeat(129)),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, 101, 1000, 2 ** 53, 2 ** 53 - 1, 1.5, -0, NaN, Date.now() + 60_000),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom('a', 'b', '', 'x'.repeat(129), 1), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('a', 'b'), fc.integer(), { maxKeys: 2 }),
);

/** A valid value for the usual fields, so that every DTO is also seen valid often. */
const PLAUSIBLE: Record<string, unknown[]> = {
  room: ['lobby', 'private:team'],
  text: ['hi @bob'],
  seq: [3],
  reaction: ['+1'],
  on: [true, false],
  role: ['member', 'moderator'],
  userId: ['bob'],
  status: ['online'],
  channel: ['feed-1'],
  to: ['bob'],
  typing: [true],
  after: [1],
  before: [9],
  limit: [10],
  since: [2],
  q: ['hello'],
  until: [Date.now() + 3_600_000],
  reason: ['spam'],
  users: [['bob']],
  userIds: [['bob', 'ann']],
  clientMsgId: ['c-1'],
  replyTo: [1],
};

function message(dto: Dto): fc.Arbitrary<Record<string, unknown>> {
  const field = (key: string) =>
    PLAUSIBLE[key]
      ? fc.oneof({ arbitrary: fc.constantFrom(...PLAUSIBLE[key]), weight: 4 }, value)
      : value;
  return fc.record(Object.fromEntries(keysOf(dto).map((k) => [k, field(k)])), {
    requiredKeys: [],
  });
}

describe('the quick check of socket DTOs', () => {
  it('covers the DTO classes of the socket events', () => {
    expect(DTOS.map(([name]) => name)).toEqual(
      expect.arrayContaining(['SendDto', 'JoinDto', 'HistoryDto', 'PublishDto', 'SubscribeDto']),
    );
  });

  it.each(DTOS)(
    '%s: whatever it accepts, class-validator accepts, and the DTO is the one class-transformer makes',
    (_name, dto) => {
      const quick = quickCheckOf(dto);
      if (!quick) return;
      let yes = 0;
      fc.assert(
        fc.property(message(dto), (plain) => {
          if (!quick(plain)) return;
          yes++;
          const made = plainToInstance(dto, plain);
          expect(validateSync(made, OPTIONS)).toEqual([]);
          expect(Object.assign(new dto(), plain)).toEqual(made);
          expect(Object.assign(new dto(), plain)).toBeInstanceOf(dto);
        }),
        { numRuns: 3000 },
      );
      expect(yes).toBeGreaterThan(30); // the property is seen on valid messages, not only on refused ones
    },
  );

  it('says yes to a valid chat.send, and leaves a bad one to class-validator, which words the error', async () => {
    const quick = quickCheckOf(chat.SendDto)!;
    expect(quick({ room: 'lobby', text: 'hi @bob', clientMsgId: 'c-1', replyTo: 3 })).toBe(true);
    expect(quick({ room: 'lobby', text: 'hi' })).toBe(true);
    expect(quick({ room: 'lobby', text: '' })).toBe(false);
    expect(quick({ room: 'lobby', text: 'hi', replyTo: 0 })).toBe(false);
    const pipe = createWsValidationPipe();
    const body = { type: 'body' as const, metatype: chat.SendDto };
    await expect(pipe.transform({ room: 'lobby', text: 'hi' }, body)).resolves.toBeInstanceOf(
      chat.SendDto,
    );
    await expect(pipe.transform({ room: 'lobby', text: '' }, body)).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'text', errors: [expect.any(String)] }],
    });
  });
});
