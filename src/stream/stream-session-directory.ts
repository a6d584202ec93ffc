import { randomBytes } from 'node:crypto';

/**
 * Which user owns each open stream session, readable by every instance, so that `POST /stream/send` reaching any
 * instance answers 404 for an unknown, closed or someone else's session and hands the rest to the instance that
 * holds it. A session id names its instance (see {@link newSessionId}); the directory keeps, per instance, its
 * open sessions and their users. Guarantees:
 * - `ownerOf` answers the user of a session registered and not removed since, undefined otherwise;
 * - `dropNode` forgets every session of an instance (it is gone: NodeLiveness reaped it, or it stopped);
 * - a failing backend rejects; callers decide (a send is then refused, never silently dropped).
 */
export abstract class StreamSessionDirectory {
  abstract register(session: string, userId: string): Promise<void>;
  abstract remove(session: string): Promise<void>;
  abstract ownerOf(session: string): Promise<string | undefined>;
  abstract dropNode(node: string): Promise<void>;
}

/** 192 random bits: a session id cannot be guessed, and it is tied to its user by the directory. */
const SESSION_RANDOM_BYTES = 24;

/** `<node, base64url>.<192 random bits, base64url>`: unguessable, and it says which instance holds the session. */
export function newSessionId(node: string): string {
  return `${Buffer.from(node).toString('base64url')}.${randomBytes(SESSION_RANDOM_BYTES).toString('base64url')}`;
}

/** The instance named in a session id; undefined for a string that is not one. */
export function nodeOfSession(session: string): string | undefined {
  const dot = session.indexOf('.');
  if (
    dot <= 0 ||
    session.length - dot - 1 !== 32 ||
    !/^[A-Za-z0-9_-]+$/.test(session.slice(dot + 1))
  )
    return undefined;
  const node = Buffer.from(session.slice(0, dot), 'base64url').toString('utf8');
  return node.length > 0 ? node : undefined;
}
