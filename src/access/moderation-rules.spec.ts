import { inForce, moderationDecision, type ModerationCheck } from './moderation-rules';

const who = { actorIsAdmin: false, targetIsAdmin: false, self: false };
const decide = (
  check: Omit<ModerationCheck, 'allowed' | 'reason' | 'room'>,
  over: Partial<typeof who> = {},
) => moderationDecision({ room: 'r', ...check }, { ...who, ...over });

describe('moderation rules', () => {
  it('settings: owners only', () => {
    expect(decide({ action: 'settings', role: 'owner' })).toEqual({ allowed: true });
    expect(decide({ action: 'settings', role: 'moderator' })).toEqual({
      allowed: false,
      reason: 'role',
    });
  });

  it('roles: owners any; moderators member <-> moderator of others; members none', () => {
    expect(
      decide({ action: 'role', role: 'owner', targetRole: 'owner', newRole: 'member' }),
    ).toEqual({ allowed: true });
    expect(
      decide({ action: 'role', role: 'moderator', targetRole: 'member', newRole: 'moderator' }),
    ).toEqual({ allowed: true });
    expect(
      decide({ action: 'role', role: 'moderator', targetRole: 'moderator', newRole: 'member' }),
    ).toEqual({ allowed: true });
    expect(
      decide({ action: 'role', role: 'moderator', targetRole: 'member', newRole: 'owner' }),
    ).toEqual({ allowed: false, reason: 'outranked' });
    expect(
      decide({ action: 'role', role: 'moderator', targetRole: 'owner', newRole: 'member' }),
    ).toEqual({ allowed: false, reason: 'outranked' });
    expect(
      decide(
        { action: 'role', role: 'moderator', targetRole: 'moderator', newRole: 'member' },
        { self: true },
      ),
    ).toEqual({ allowed: false, reason: 'role' });
    expect(
      decide({ action: 'role', role: 'member', targetRole: 'member', newRole: 'moderator' }),
    ).toEqual({ allowed: false, reason: 'role' });
  });

  it('kick, ban, mute: moderators over members, owners over moderators, admins over owners; never an admin', () => {
    for (const action of ['kick', 'ban', 'mute', 'delete'] as const) {
      expect(decide({ action, role: 'moderator', targetRole: 'member' })).toEqual({
        allowed: true,
      });
      expect(decide({ action, role: 'moderator', targetRole: 'moderator' }).allowed).toBe(false);
      expect(decide({ action, role: 'moderator', targetRole: 'owner' })).toEqual({
        allowed: false,
        reason: 'outranked',
      });
      expect(decide({ action, role: 'owner', targetRole: 'moderator' })).toEqual({ allowed: true });
      expect(decide({ action, role: 'owner', targetRole: 'owner' }).allowed).toBe(false);
      expect(
        decide({ action, role: 'owner', targetRole: 'owner' }, { actorIsAdmin: true }),
      ).toEqual({
        allowed: true,
      });
      expect(
        decide(
          { action, role: 'owner', targetRole: 'owner' },
          { actorIsAdmin: true, targetIsAdmin: true },
        ),
      ).toEqual({ allowed: false, reason: 'admin' });
      expect(decide({ action, role: 'member', targetRole: 'member' })).toEqual({
        allowed: false,
        reason: 'role',
      });
      expect(decide({ action, role: 'owner', targetRole: 'member' }, { self: true }).allowed).toBe(
        false,
      );
    }
  });

  it('a restriction is in force without until, or until it passes', () => {
    expect(inForce(undefined)).toBeUndefined();
    expect(inForce({})).toEqual({});
    expect(inForce({ until: 2000 }, 1999)).toEqual({ until: 2000 });
    expect(inForce({ until: 2000 }, 2000)).toBeUndefined();
  });
});
