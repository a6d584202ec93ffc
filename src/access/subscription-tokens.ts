import { Injectable } from '@nestjs/common';
import { InvalidTokenError, TokenVerifier } from '../auth/token-verifier';
import { HubbubError } from '../protocol/errors';

/**
 * Subscription tokens: a JWT signed like connection tokens, with `sub` (the connection's user), `channel`
 * (exactly the channel subscribed to) and `exp`. The backend grants one channel with it without reissuing the
 * connection token. Anything else about it refuses the subscribe with `forbidden`. The subscription it grants ends
 * at its `exp` unless `channel.refresh` brings a later one (ChannelsService). It is not a connection token: the
 * handshake refuses a token with a `channel` claim.
 */
@Injectable()
export class SubscriptionTokens {
  constructor(private readonly verifier: TokenVerifier) {}

  /** Returns when the grant ends: the token's `exp`, in ms since epoch. */
  async assertGrants(token: string, userId: string, channel: string): Promise<number> {
    let claims;
    try {
      claims = await this.verifier.verifyClaims(token);
    } catch (err) {
      if (err instanceof InvalidTokenError)
        throw new HubbubError('forbidden', `Subscription token refused: ${err.message}`);
      throw err;
    }
    if (claims.sub !== userId)
      throw new HubbubError('forbidden', 'Subscription token is for another user');
    if (claims.channel !== channel)
      throw new HubbubError('forbidden', 'Subscription token is for another channel');
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp))
      throw new HubbubError(
        'forbidden',
        'Subscription token refused: claim "exp" must be a number',
      );
    return claims.exp * 1000;
  }
}
