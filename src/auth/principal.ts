/** Who is on the other end of a connection, as the handshake established it. */
export interface Principal {
  userId: string;
  name?: string;
  roles: readonly string[];
  /** Globs of `private:` rooms the user may join. */
  rooms: readonly string[];
  /** Globs of channels the user may publish to. */
  publish: readonly string[];
  /** Globs of `private:` channels the user may subscribe to (absent: none). */
  subscribe?: readonly string[];
  /** Token expiry, ms since epoch. */
  expiresAt: number;
}

export function isAdmin(principal: Principal): boolean {
  return principal.roles.includes('admin');
}
