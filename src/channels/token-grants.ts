import { ExpiryBuckets } from '../lifecycle/expiry-buckets';
import type { Connection, TokenGrant } from '../ws/connection';

/**
 * Channel subscriptions a subscription token granted, each ending at its token's `exp` unless `channel.refresh`
 * moves it. Kept in per-second buckets swept on the session-expiry tick: no timer of their own, and a connection
 * without such a subscription holds no map.
 */
export class TokenGrants {
  private readonly buckets = new ExpiryBuckets<TokenGrant>();

  /** The subscription now ends at `expiresAt`; undefined: it depends on no token (the claims or policy grant it). */
  set(conn: Connection, channel: string, expiresAt: number | undefined): void {
    if (expiresAt === undefined) return this.remove(conn, channel);
    let grant = conn.tokenChannels?.get(channel);
    if (grant) grant.expiresAt = expiresAt;
    else (conn.tokenChannels ??= new Map()).set(channel, (grant = { conn, channel, expiresAt }));
    this.buckets.track(grant, expiresAt);
  }

  has(conn: Connection, channel: string): boolean {
    return conn.tokenChannels?.has(channel) ?? false;
  }

  remove(conn: Connection, channel: string): void {
    const grant = conn.tokenChannels?.get(channel);
    if (!grant) return;
    this.buckets.untrack(grant);
    conn.tokenChannels!.delete(channel);
    if (conn.tokenChannels!.size === 0) conn.tokenChannels = null;
  }

  /** Hands every grant that ended to `expire`, no longer tracked. */
  sweep(now: number, expire: (grant: TokenGrant) => void): void {
    this.buckets.sweep(now, expiryOf, (grant) => {
      this.remove(grant.conn, grant.channel);
      expire(grant);
    });
  }
}

const expiryOf = (grant: TokenGrant): number => grant.expiresAt;
