import { Webhook } from 'standardwebhooks';
import type { Principal } from '../auth/principal';
import { ClaimAccessPolicy } from './claim-access-policy';
import { publishClaimDecision, roomClaimDecision, subscribeClaimDecision } from './claim-rules';
import { RequestSigner } from './sign';

const user = (fields: Partial<Principal> = {}): Principal => ({
  userId: 'alice',
  roles: [],
  rooms: [],
  publish: [],
  expiresAt: Date.now() + 60_000,
  ...fields,
});

describe('claim rules', () => {
  it('rooms: private: needs a rooms glob (else ungranted), dm: only its users (else refused), the rest is open', () => {
    expect(roomClaimDecision(user(), 'lobby')).toBe('granted');
    expect(roomClaimDecision(user(), 'private:team')).toBe('ungranted');
    expect(roomClaimDecision(user({ rooms: ['private:t*'] }), 'private:team')).toBe('granted');
    expect(roomClaimDecision(user(), 'dm:alice:bob')).toBe('granted');
    expect(roomClaimDecision(user(), 'dm:bob:carol')).toBe('refused');
  });

  it('subscribe: private: needs a subscribe glob or admin; user limits refuse everyone else, admin included', () => {
    expect(subscribeClaimDecision(user(), 'news')).toBe('granted');
    expect(subscribeClaimDecision(user(), 'private:x')).toBe('ungranted');
    expect(subscribeClaimDecision(user({ rooms: ['*'], publish: ['*'] }), 'private:x')).toBe(
      'ungranted',
    );
    expect(subscribeClaimDecision(user({ subscribe: ['private:*'] }), 'private:x')).toBe('granted');
    expect(subscribeClaimDecision(user({ roles: ['admin'] }), 'private:x')).toBe('granted');
    expect(subscribeClaimDecision(user(), 'dialog#alice,bob')).toBe('granted');
    expect(subscribeClaimDecision(user({ userId: 'bob' }), 'dialog#alice,bob')).toBe('granted');
    expect(
      subscribeClaimDecision(user({ userId: 'carol', roles: ['admin'] }), 'dialog#alice,bob'),
    ).toBe('refused');
    expect(subscribeClaimDecision(user(), 'private:inbox#alice')).toBe('ungranted');
  });

  it('publish: a publish glob or admin', () => {
    expect(publishClaimDecision(user(), 'news')).toBe('ungranted');
    expect(publishClaimDecision(user({ publish: ['ne*'] }), 'news')).toBe('granted');
    expect(publishClaimDecision(user({ roles: ['admin'] }), 'private:x#bob')).toBe('granted');
  });

  it('the default policy grants exactly what the claims grant', () => {
    const policy = new ClaimAccessPolicy();
    expect(policy.canJoin(user(), 'private:x')).toBe(false);
    expect(policy.canSubscribe(user({ subscribe: ['private:*'] }), 'private:x')).toBe(true);
    expect(policy.canPublish(user(), 'news')).toBe(false);
  });
});

describe('RequestSigner', () => {
  const body = JSON.stringify({ action: 'join', userId: 'alice', room: 'private:x' });

  it('signs like Standard Webhooks: the package verifies it with the same whsec_ secret', () => {
    const secret = `whsec_${Buffer.from('a-secret-of-at-least-24-bytes!!').toString('base64')}`;
    const headers = new RequestSigner(secret).headers(body);
    expect(headers['webhook-id']).toMatch(/^msg_/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it('uses a secret in another form as raw bytes', () => {
    const headers = new RequestSigner('plain-secret').headers(body);
    expect(new Webhook('plain-secret', { format: 'raw' }).verify(body, headers)).toEqual(
      JSON.parse(body),
    );
  });
});
