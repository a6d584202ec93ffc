import type { Redis } from 'ioredis';
import { RedisKeys } from '../cluster/redis-keys';
import { nodeOfSession, StreamSessionDirectory } from './stream-session-directory';

/**
 * Cluster mode: one hash per instance, `hubbub:stream-sessions:<node>`, session → user. The instance is read from
 * the session id, so a look-up is one HGET; an instance's sessions go with one DEL when it is reaped.
 */
export class RedisStreamSessionDirectory extends StreamSessionDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly node: string,
  ) {
    super();
  }

  async register(session: string, userId: string): Promise<void> {
    await this.redis.hset(RedisKeys.streamSessions(this.node), session, userId);
  }

  async remove(session: string): Promise<void> {
    await this.redis.hdel(RedisKeys.streamSessions(this.node), session);
  }

  async ownerOf(session: string): Promise<string | undefined> {
    const node = nodeOfSession(session);
    if (node === undefined) return undefined;
    return (await this.redis.hget(RedisKeys.streamSessions(node), session)) ?? undefined;
  }

  async dropNode(node: string): Promise<void> {
    await this.redis.del(RedisKeys.streamSessions(node));
  }
}
