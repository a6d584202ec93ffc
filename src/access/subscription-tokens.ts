import { Injectable } from '@nestjs/common';
import { InvalidTokenError, TokenVerifier } from '../auth/token-verifier';
import { HubbubError } from '../protocol/errors';

/**
 * Subscription tokens: a JWT signed like connection tokens, with `sub` (the connection's user), `channel`
 * (exactly the channel subscribed to) and `exp`. The backend grants one channel with it without reissuing the
 * connection token. Anything else about it refuses the subscribe with `forbidden`.
 */
@Injectable()
export class SubscriptionTokens {
  constructor(private readonly verifier: TokenVerifier) {}

  async assertGrants(token: string, userId: string, channel: string): Promise<void> {
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
  }
}
