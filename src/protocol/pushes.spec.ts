import type { PushService } from '../fanout/push.service';
import { PUSH_EVENTS, type PushName } from './pushes';

/** Type-level checks run by `npm run typecheck`; the runtime part keeps jest honest about the list itself. */
type Accepts<E extends string> = PushName<E> extends never ? false : true;
const listed: Accepts<'chat.message'> = true;
const teams: Accepts<'team.shouted'> = true;
const unlisted: Accepts<'chat.kicked'> = false;
const reserved: Accepts<'welcome'> = true;

// An unlisted push in Hubbub's own namespaces does not compile.
export function neverCalled(push: PushService): Promise<void> {
  // @ts-expect-error 'chat.kicked' is not in PUSH_EVENTS
  return push.toRoom('lobby', 'chat.kicked', {});
}

describe('push names', () => {
  it('are unique and namespaced like the rest of the protocol', () => {
    expect(new Set(PUSH_EVENTS).size).toBe(PUSH_EVENTS.length);
    for (const name of PUSH_EVENTS) expect(name).toMatch(/^[a-z]+(\.[a-z]+)?$/);
    expect([listed, teams, unlisted, reserved]).toEqual([true, true, false, true]);
  });
});
