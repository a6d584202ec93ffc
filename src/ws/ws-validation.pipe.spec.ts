import { JoinDto, SendDto } from '../chat/chat.dto';
import { HubbubError } from '../protocol/errors';
import { createWsValidationPipe } from './ws-validation.pipe';

/** An array nested `depth` levels deep, built without recursion. */
function deepArray(depth: number): unknown[] {
  const root: unknown[] = [];
  let node = root;
  for (let i = 1; i < depth; i++) {
    const child: unknown[] = [];
    node.push(child);
    node = child;
  }
  return root;
}

describe('the WebSocket validation pipe', () => {
  const pipe = createWsValidationPipe();
  const body = (metatype: new () => unknown) => ({ type: 'body' as const, metatype });

  it('never hands unknown keys to class-transformer, however deep they are', async () => {
    // class-transformer copies values recursively: 20,000 levels under an unknown key overflowed the stack.
    const value = { room: 'lobby', since: 3, x: deepArray(20_000), y: { z: deepArray(20_000) } };
    const dto = await pipe.transform(value, body(JoinDto));
    expect(dto).toBeInstanceOf(JoinDto);
    expect({ ...(dto as object) }).toEqual({ room: 'lobby', since: 3 });
  });

  it('does not let a __proto__ key reach the DTO or its prototype', async () => {
    const value = JSON.parse('{"room":"lobby","__proto__":{"polluted":true}}') as object;
    const dto = (await pipe.transform(value, body(JoinDto))) as Record<string, unknown>;
    expect(dto.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still validates the declared keys with validation_failed and field details', async () => {
    await expect(
      pipe.transform({ room: 'lobby', text: 'a\u0000b', extra: 1 }, body(SendDto)),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'text', errors: [expect.stringMatching(/control characters/)] }],
    } satisfies Partial<HubbubError>);
  });
});
