import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * A shared secret sent as `Authorization: Bearer <key>` (API_KEY, METRICS_TOKEN), compared in constant time: both
 * sides are hashed first, so the comparison always runs over 32 bytes and neither the key's length nor the length
 * of a guess shows in how long it takes.
 */
export class BearerKey {
  private readonly expected: Buffer;

  constructor(secret: string) {
    this.expected = digest(secret);
  }

  /** Whether an `Authorization` header value carries this key. */
  matches(authorization: string | undefined): boolean {
    const given = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
    // Always hashed and compared, also for an empty guess: the time taken says nothing about it.
    return timingSafeEqual(digest(given), this.expected) && given.length > 0;
  }
}
